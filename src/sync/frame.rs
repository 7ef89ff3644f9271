//! The sync protocol's frames: a 4-byte big-endian length, then that many bytes of one JSON
//! message. Both sides say hello first with the range of protocol versions they speak and go on
//! in the highest one they share; when they share none, each side says so in one line naming
//! both ranges. Frames are bounded, so a confused peer cannot make the other allocate without end.

use serde::{Deserialize, Serialize};
use std::io::{self, Read, Write};

/// The protocol versions this muster speaks.
pub const PROTOCOL: (u32, u32) = (1, 1);
/// The largest frame either side accepts (a W-9 of 10 MB travels as 20 MB of hex).
const MAX_FRAME: u32 = 64 << 20;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Message {
    /// The first message each way: the protocol versions spoken and the program's version.
    Hello {
        min: u32,
        max: u32,
        muster: String,
    },
    /// A round trip that reads nothing but who is asking.
    Ping,
    /// The hub's answer: who it sees at the other end (its own user, with their role).
    Pong {
        login: String,
        role: String,
    },
    /// The request could not be served; the connection ends after it.
    Error {
        message: String,
    },
    /// Registers this laptop as a device of the person and sends their scope.
    Clone {
        name: String,
    },
    /// Rows of one table of the scope, in the order they can be inserted.
    Rows {
        table: String,
        columns: Vec<String>,
        rows: Vec<Vec<crate::store::replica::Cell>>,
    },
    /// The scope is whole: the device's id on the hub, whose scope it is, and the hub's change
    /// mark it was read at.
    CloneDone {
        device: String,
        login: String,
        mark: i64,
    },
    /// The replica's changes not yet applied, in order.
    Push {
        device: String,
        entries: Vec<crate::store::replica::Outgoing>,
    },
    /// What the hub did with each, by sequence number.
    Pushed {
        verdicts: Vec<(i64, crate::app::replica::Verdict)>,
    },
    /// The device's scope as it is now on the hub (sent as `Rows`, then `Pulled` with the hub's
    /// change mark), or `Unchanged` when nothing changed on the hub since the mark `since`.
    Pull {
        device: String,
        since: Option<i64>,
        /// The replica's digests: only what differs comes back (a bundle carries them).
        #[serde(default)]
        have: Option<crate::store::pull::Have>,
        /// The laptop can send its digests when asked (`Compare`) if anything changed.
        #[serde(default)]
        compare: bool,
    },
    /// The hub asks for the replica's digests before it sends anything.
    Compare,
    /// The replica's digests, answering `Compare`.
    Have(crate::store::pull::Have),
    /// Sent before the rows of a pull that compared digests: what they replace.
    Changed(crate::store::pull::Changed),
    Pulled {
        mark: i64,
    },
    Unchanged,
}

/// What can go wrong reading a frame.
#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    #[error("the connection was cut in the middle of a message")]
    Truncated,
    #[error("the other side sent a message of {0} bytes, more than the {MAX_FRAME} allowed")]
    TooLarge(u32),
    #[error("the other side sent something that is not a muster sync message: {0}")]
    Garbled(String),
    #[error(transparent)]
    Io(#[from] io::Error),
}

pub fn hello() -> Message {
    Message::Hello { min: PROTOCOL.0, max: PROTOCOL.1, muster: env!("CARGO_PKG_VERSION").into() }
}

pub fn write(out: &mut impl Write, message: &Message) -> io::Result<()> {
    let body = serde_json::to_vec(message).map_err(io::Error::other)?;
    let length = u32::try_from(body.len()).ok().filter(|l| *l <= MAX_FRAME).ok_or_else(|| {
        io::Error::new(io::ErrorKind::InvalidInput, format!("a sync message of {} bytes is too large", body.len()))
    })?;
    out.write_all(&length.to_be_bytes())?;
    out.write_all(&body)?;
    out.flush()
}

/// The next message, or `None` when the other side closed the connection between messages.
pub fn read(input: &mut impl Read) -> Result<Option<Message>, FrameError> {
    let mut length = [0u8; 4];
    let mut got = 0;
    while got < 4 {
        match input.read(&mut length[got..])? {
            0 if got == 0 => return Ok(None),
            0 => return Err(FrameError::Truncated),
            n => got += n,
        }
    }
    let length = u32::from_be_bytes(length);
    if length > MAX_FRAME {
        return Err(FrameError::TooLarge(length));
    }
    let mut body = vec![0u8; length as usize];
    input.read_exact(&mut body).map_err(|e| match e.kind() {
        io::ErrorKind::UnexpectedEof => FrameError::Truncated,
        _ => FrameError::Io(e),
    })?;
    serde_json::from_slice(&body).map(Some).map_err(|e| FrameError::Garbled(e.to_string()))
}

/// The version both sides speak, from the other side's hello; or the one line that says why
/// there is none. `we`/`they` name the sides in that line ("this muster", "the hub").
pub fn agree(theirs: &Message, we: &str, they: &str) -> Result<u32, String> {
    let Message::Hello { min, max, muster } = theirs else {
        return Err(format!("{they} did not start with a hello"));
    };
    let (our_min, our_max) = PROTOCOL;
    let shared = (*max).min(our_max);
    if shared < (*min).max(our_min) {
        return Err(format!(
            "{we} (muster {}) speaks sync protocol {our_min}–{our_max}, {they} (muster {muster}) speaks {min}–{max}: \
             upgrade the older one",
            env!("CARGO_PKG_VERSION")
        ));
    }
    Ok(shared)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_come_back_as_they_went() {
        let mut wire = Vec::new();
        write(&mut wire, &hello()).unwrap();
        write(&mut wire, &Message::Pong { login: "ws_01".into(), role: "worksite".into() }).unwrap();
        let cells = vec![
            crate::store::replica::Cell::Null,
            crate::store::replica::Cell::Integer(7),
            crate::store::replica::Cell::Real(7.0),
            crate::store::replica::Cell::Text("7".into()),
            crate::store::replica::Cell::Blob { blob: "00ff".into() },
        ];
        let rows = Message::Rows { table: "t".into(), columns: vec!["a".into()], rows: vec![cells] };
        write(&mut wire, &rows).unwrap();
        let mut input = wire.as_slice();
        assert_eq!(read(&mut input).unwrap(), Some(hello()));
        assert_eq!(read(&mut input).unwrap(), Some(Message::Pong { login: "ws_01".into(), role: "worksite".into() }));
        assert_eq!(read(&mut input).unwrap(), Some(rows), "each kind of value keeps its type");
        assert_eq!(read(&mut input).unwrap(), None, "a close between messages is the end");
    }

    #[test]
    fn a_cut_an_oversized_or_garbled_frame_is_named() {
        let mut wire = Vec::new();
        write(&mut wire, &Message::Ping).unwrap();
        for cut in [2, wire.len() - 1] {
            assert!(matches!(read(&mut &wire[..cut]), Err(FrameError::Truncated)), "cut at {cut}");
        }
        let huge = (MAX_FRAME + 1).to_be_bytes();
        assert!(matches!(read(&mut huge.as_slice()), Err(FrameError::TooLarge(_))));
        let mut garbled = 5u32.to_be_bytes().to_vec();
        garbled.extend(b"hello");
        assert!(matches!(read(&mut garbled.as_slice()), Err(FrameError::Garbled(_))));
    }

    #[test]
    fn the_highest_shared_version_is_spoken_and_none_is_one_clear_line() {
        let theirs = |min, max| Message::Hello { min, max, muster: "9.9.9".into() };
        assert_eq!(agree(&theirs(1, 5), "this muster", "the hub"), Ok(1));
        let refused = agree(&theirs(7, 9), "this muster", "the hub").unwrap_err();
        assert!(refused.contains("1–1") && refused.contains("7–9") && refused.contains("9.9.9"), "{refused}");
        assert!(!refused.contains('\n'));
        assert!(agree(&Message::Ping, "this muster", "the hub").is_err());
    }
}
