//! Onboarding and payroll rules (SPEC "Onboarding", "Payroll profiles"): typed signatures,
//! checklist completeness, payout rates, ABA routing numbers, account numbers, W-9 files.

use super::text_enum;
use sha2::{Digest, Sha256};

text_enum! {
    PayoutMethod, "payout method" {
        StripeConnect = "stripe_connect",
        Ach = "ach",
    }
}

text_enum! {
    PayrollStatus, "payroll status" {
        Pending = "pending",
        Approved = "approved",
        Rejected = "rejected",
    }
}

/// SHA-256 of a text, lower-case hex: what a signature binds to.
pub fn sha256_hex(bytes: &[u8]) -> String {
    format!("{:x}", Sha256::digest(bytes))
}

/// A typed signature must be the user's registered full name (outer spaces trimmed).
pub fn check_signature(typed: &str, registered: &str) -> Result<(), String> {
    if typed.trim() == registered.trim() {
        Ok(())
    } else {
        Err(format!(
            "the signature must be your full name as registered, \"{}\"; you typed \"{}\"",
            registered.trim(),
            typed.trim()
        ))
    }
}

/// A rate within the role's range, inclusive.
pub fn check_rate(rate: f64, min: f64, max: f64, unit: &str) -> Result<(), String> {
    if rate.is_finite() && (min..=max).contains(&rate) {
        Ok(())
    } else {
        Err(format!("rate {rate} is outside this role's range: {min} to {max} {unit}"))
    }
}

/// A 9-digit ABA routing number whose checksum holds: 3·(d1+d4+d7) + 7·(d2+d5+d8) + (d3+d6+d9) ≡ 0 (mod 10).
pub fn check_routing_number(routing: &str) -> Result<(), String> {
    let digits: Vec<u32> = routing.chars().filter_map(|c| c.to_digit(10)).collect();
    if routing.len() != 9 || digits.len() != 9 {
        return Err(format!("routing number '{routing}' must be 9 digits"));
    }
    // The first two digits name a Federal Reserve district: 01–12 (banks), 21–32 (thrifts),
    // 61–72 (electronic), 80 (traveller's cheques). 00 is the government's; nothing else is used.
    let district = digits[0] * 10 + digits[1];
    if !matches!(district, 1..=12 | 21..=32 | 61..=72 | 80) {
        return Err(format!(
            "routing number '{routing}' does not begin with a Federal Reserve district (01–12, 21–32, 61–72, 80)"
        ));
    }
    let sum: u32 = digits.chunks(3).map(|d| 3 * d[0] + 7 * d[1] + d[2]).sum();
    if !sum.is_multiple_of(10) {
        return Err(format!("routing number '{routing}' fails the ABA checksum; check it against a cheque"));
    }
    Ok(())
}

/// A 4 to 17 digit account number; only its last four digits are ever kept.
pub fn account_last4(account: &str) -> Result<String, String> {
    if !(4..=17).contains(&account.len()) || !account.chars().all(|c| c.is_ascii_digit()) {
        return Err("the account number must be 4 to 17 digits".into());
    }
    Ok(account[account.len() - 4..].to_string())
}

/// A Stripe Connect account id looks like `acct_` followed by up to 64 letters and digits. The
/// value is never echoed: a bank account number typed here by mistake must not reach a screen.
pub fn check_stripe_account(id: &str) -> Result<(), String> {
    match id.strip_prefix("acct_") {
        Some(rest) if (1..=64).contains(&rest.len()) && rest.chars().all(|c| c.is_ascii_alphanumeric()) => Ok(()),
        _ => Err(format!(
            "the value given ({}) is not a Stripe Connect account id: acct_ followed by up to 64 letters and digits",
            mask_secret(id)
        )),
    }
}

/// A value that may be an account number, as it may be shown: its length and last two characters.
pub fn mask_secret(value: &str) -> String {
    let chars: Vec<char> = value.chars().collect();
    let tail: String = chars.iter().skip(chars.len().saturating_sub(2)).collect();
    if chars.len() <= 4 {
        format!("{} characters", chars.len())
    } else {
        format!("{} characters, ending …{tail}", chars.len())
    }
}

/// The largest W-9 file accepted.
pub const W9_MAX_BYTES: usize = 10 * 1024 * 1024;

/// The media type of a W-9 file, judged by its content: PDF, PNG or JPEG.
pub fn w9_media_type(bytes: &[u8]) -> Result<&'static str, String> {
    if bytes.len() > W9_MAX_BYTES {
        return Err("the W-9 file is larger than 10 MB; at most 10 MB".into());
    }
    if bytes.starts_with(b"%PDF-") {
        Ok("application/pdf")
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Ok("image/png")
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Ok("image/jpeg")
    } else {
        Err("the W-9 file is not a PDF, PNG or JPEG (judged by its content, not its name)".into())
    }
}

/// A mark drawn with the mouse: strokes of points, in the signing pad's cells.
pub type Mark = Vec<Vec<(u16, u16)>>;

/// At most this many strokes, points in all, and this far from the pad's corner: a mark, not a
/// file smuggled in as one.
pub const MARK_STROKES: usize = 64;
pub const MARK_POINTS: usize = 4_096;
pub const MARK_SPAN: u16 = 512;

pub fn check_mark(mark: &Mark) -> Result<(), String> {
    let points: usize = mark.iter().map(Vec::len).sum();
    if mark.len() > MARK_STROKES || points > MARK_POINTS {
        return Err(format!(
            "a drawn mark has at most {MARK_STROKES} strokes and {MARK_POINTS} points ({} and {points} given)",
            mark.len()
        ));
    }
    if mark.iter().flatten().any(|(x, y)| *x > MARK_SPAN || *y > MARK_SPAN) {
        return Err(format!("a drawn mark's points lie within {MARK_SPAN} cells of the pad's corner"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_drawn_mark_is_a_mark_not_a_payload() {
        assert!(check_mark(&vec![vec![(0, 0), (10, 4)], vec![(30, 2)]]).is_ok());
        assert!(check_mark(&vec![vec![(0, 0)]; MARK_STROKES + 1]).is_err());
        assert!(check_mark(&vec![vec![(1, 1); MARK_POINTS + 1]]).is_err());
        assert!(check_mark(&vec![vec![(MARK_SPAN + 1, 0)]]).is_err());
    }

    #[test]
    fn signatures_must_match_the_registered_name() {
        assert!(check_signature("  Wanda Site ", "Wanda Site").is_ok());
        assert!(check_signature("wanda site", "Wanda Site").unwrap_err().contains("\"Wanda Site\""));
        assert!(check_signature("W. Site", "Wanda Site").is_err());
    }

    #[test]
    fn routing_numbers_carry_a_checksum() {
        for good in ["011000015", "021000021", "111000025"] {
            assert!(check_routing_number(good).is_ok(), "{good}");
        }
        assert!(check_routing_number("011000016").unwrap_err().contains("checksum"));
        assert!(check_routing_number("12345").unwrap_err().contains("9 digits"));
        assert!(check_routing_number("01100001a").is_err());
        assert!(check_routing_number("000000000").unwrap_err().contains("district"));
        assert!(check_routing_number("990000000").is_err());
    }

    #[test]
    fn only_the_last_four_digits_are_kept() {
        assert_eq!(account_last4("000123456789").unwrap(), "6789");
        assert!(account_last4("123").is_err());
        assert!(account_last4("123456789012345678").is_err());
        assert!(account_last4("12-34").is_err());
    }

    #[test]
    fn rates_stay_in_range() {
        assert!(check_rate(10.0, 8.0, 12.0, "%").is_ok());
        assert!(check_rate(12.5, 8.0, 12.0, "%").unwrap_err().contains("8 to 12 %"));
        assert!(check_rate(f64::NAN, 8.0, 12.0, "%").is_err());
    }

    #[test]
    fn w9_files_are_judged_by_content() {
        assert_eq!(w9_media_type(b"%PDF-1.7 ...").unwrap(), "application/pdf");
        assert_eq!(w9_media_type(b"\x89PNG\r\n\x1a\n....").unwrap(), "image/png");
        assert_eq!(w9_media_type(&[0xFF, 0xD8, 0xFF, 0xE0]).unwrap(), "image/jpeg");
        assert!(w9_media_type(b"GIF89a").is_err());
        assert!(w9_media_type(&vec![b'%'; W9_MAX_BYTES + 1]).unwrap_err().contains("at most 10 MB"));
    }

    #[test]
    fn stripe_accounts_look_like_acct_ids() {
        assert!(check_stripe_account("acct_1Nv0FGQ9RKHgCVdK").is_ok());
        assert!(check_stripe_account("1Nv0FG").is_err());
        assert!(check_stripe_account(&format!("acct_{}", "a".repeat(500))).is_err());
        let err = check_stripe_account("98765432101").unwrap_err();
        assert!(!err.contains("98765"), "never echoes what may be an account number: {err}");
        assert!(check_stripe_account("acct_").is_err());
    }
}
