//! Which columns of a table fit a width: the least important go first, and the identifying
//! column (a `Fill`, the student's name) stays to the last.

use ratatui::layout::Constraint;

/// The indices of the columns to keep at `width`: columns are dropped in `drop_order` (least
/// important first) until the fixed ones and their spacing leave `min_fill` for the `Fill` ones.
pub fn fitting(width: u16, widths: &[Constraint], drop_order: &[usize], min_fill: u16) -> Vec<usize> {
    let mut kept: Vec<usize> = (0..widths.len()).collect();
    let needed = |kept: &[usize]| -> u16 {
        let fixed: u16 = kept
            .iter()
            .map(|i| match widths[*i] {
                Constraint::Length(n) | Constraint::Min(n) => n,
                Constraint::Fill(_) => min_fill,
                _ => 0,
            })
            .sum();
        fixed + kept.len().saturating_sub(1) as u16
    };
    for column in drop_order {
        if needed(&kept) <= width {
            break;
        }
        kept.retain(|i| i != column);
    }
    kept
}

/// Keeps only the `kept` entries of a row (or header, or widths), in order.
pub fn keep<T>(items: Vec<T>, kept: &[usize]) -> Vec<T> {
    items.into_iter().enumerate().filter(|(i, _)| kept.contains(i)).map(|(_, item)| item).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_name_column_outlasts_every_other() {
        let widths = [Constraint::Fill(1), Constraint::Length(10), Constraint::Length(9), Constraint::Length(4)];
        assert_eq!(fitting(80, &widths, &[3, 2, 1], 12), vec![0, 1, 2, 3]);
        assert_eq!(fitting(30, &widths, &[3, 2, 1], 12), vec![0, 1]);
        assert_eq!(fitting(10, &widths, &[3, 2, 1], 12), vec![0], "only the name is left, however narrow");
    }
}
