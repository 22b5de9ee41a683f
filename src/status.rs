//! The binary `supervise/status` record: runit's 20 bytes, and daemontools' 18-byte
//! predecessor for reading. Byte order is fixed by the format (big-endian timestamp,
//! little-endian pid), never by the host, so the codec is the same on every target.

use crate::tai::Tai64n;

/// Size of runit's status file.
pub const RUNIT_LEN: usize = 20;
/// Size of daemontools' status file.
pub const DAEMONTOOLS_LEN: usize = 18;

/// What the supervised process is doing (byte 19).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RunState {
    Down = 0,
    Run = 1,
    Finish = 2,
}

impl RunState {
    pub fn name(self) -> &'static str {
        match self {
            RunState::Down => "down",
            RunState::Run => "run",
            RunState::Finish => "finish",
        }
    }
}

/// One decoded status record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Status {
    /// Time of the last start of `run`, or of going down.
    pub stamp: Tai64n,
    /// Pid of the current child (run or finish), 0 if none.
    pub pid: u32,
    pub paused: bool,
    /// `b'u'` or `b'd'`; daemontools writes 0 after `o`.
    pub want: u8,
    /// runsv sent SIGTERM and the child has not exited yet.
    pub term: bool,
    pub state: RunState,
}

/// Why a status file could not be decoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FormatError {
    /// Neither 20 nor 18 bytes.
    Length,
    /// State byte outside 0..=2.
    State,
}

impl Status {
    /// runit's 20-byte encoding.
    pub fn encode(&self) -> [u8; RUNIT_LEN] {
        let mut out = [0u8; RUNIT_LEN];
        out[..12].copy_from_slice(&self.stamp.pack());
        out[12..16].copy_from_slice(&self.pid.to_le_bytes());
        out[16] = self.paused as u8;
        out[17] = self.want;
        out[18] = self.term as u8;
        out[19] = self.state as u8;
        out
    }

    /// Decodes runit's 20 bytes or daemontools' 18; anything else is a format error.
    pub fn decode(bytes: &[u8]) -> Result<Status, FormatError> {
        let (term, state) = match bytes.len() {
            RUNIT_LEN => {
                let state = match bytes[19] {
                    0 => RunState::Down,
                    1 => RunState::Run,
                    2 => RunState::Finish,
                    _ => return Err(FormatError::State),
                };
                (bytes[18] != 0, state)
            }
            DAEMONTOOLS_LEN => (false, RunState::Down),
            _ => return Err(FormatError::Length),
        };
        let mut stamp = [0u8; 12];
        stamp.copy_from_slice(&bytes[..12]);
        let mut pid = [0u8; 4];
        pid.copy_from_slice(&bytes[12..16]);
        let pid = u32::from_le_bytes(pid);
        let state = if bytes.len() == DAEMONTOOLS_LEN && pid != 0 {
            RunState::Run
        } else {
            state
        };
        Ok(Status {
            stamp: Tai64n::unpack(&stamp),
            pid,
            paused: bytes[16] != 0,
            want: bytes[17],
            term,
            state,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OBSERVED: [u8; 20] = [
        0x40, 0, 0, 0, 0x6b, 0x01, 0x1c, 0xad, 0x27, 0x79, 0x3f, 0x5c, 0x2e, 0x01, 0, 0, 0, 0x75,
        0, 1,
    ];

    #[test]
    fn decodes_and_reencodes_runit_bytes() {
        let s = Status::decode(&OBSERVED).unwrap();
        assert_eq!(s.pid, 302);
        assert_eq!(s.stamp.unix_secs(), 1_795_234_979);
        assert_eq!(s.stamp.nano, 662_257_500);
        assert_eq!(s.want, b'u');
        assert!(!s.paused && !s.term);
        assert_eq!(s.state, RunState::Run);
        assert_eq!(s.encode(), OBSERVED);
    }

    #[test]
    fn reads_daemontools_records() {
        let s = Status::decode(&OBSERVED[..18]).unwrap();
        assert_eq!(s.pid, 302);
        assert_eq!(s.state, RunState::Run);
        let mut down = OBSERVED;
        down[12..16].fill(0);
        assert_eq!(Status::decode(&down[..18]).unwrap().state, RunState::Down);
    }

    #[test]
    fn rejects_bad_records() {
        assert_eq!(Status::decode(&OBSERVED[..19]), Err(FormatError::Length));
        assert_eq!(Status::decode(&[]), Err(FormatError::Length));
        let mut bad = OBSERVED;
        bad[19] = 7;
        assert_eq!(Status::decode(&bad), Err(FormatError::State));
    }
}
