//! The `config` file of a log directory (§5.3): size, retention, timer, processor, UDP,
//! prefix and pattern instructions, parsed exactly as runit's svlogd reads them.

use super::pattern::Instruction;
use svbox::scan::scan_ulong;

/// A `u`/`U` destination: IPv4 address octets and port (no std::net: its parser and
/// resolver are big, and runit takes only a dotted quad).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UdpAddr {
    pub ip: [u8; 4],
    pub port: u16,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// `s`: rotate when `current` reaches this size; 0 = never by size.
    pub size: u64,
    /// `n`: old files kept; 0 = never delete.
    pub nmax: u64,
    /// `N`: old files kept when the disk is full.
    pub nmin: u64,
    /// `t`: rotate after this many seconds; 0 = off.
    pub timeout: u64,
    pub processor: Option<Vec<u8>>,
    pub udp: Option<UdpAddr>,
    /// `U`: send to UDP only, do not write to the directory.
    pub udp_only: bool,
    pub prefix: Vec<u8>,
    pub instructions: Vec<Instruction>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            size: 1_000_000,
            nmax: 10,
            nmin: 10,
            timeout: 0,
            processor: None,
            udp: None,
            udp_only: false,
            prefix: Vec::new(),
            instructions: Vec::new(),
        }
    }
}

/// A warning produced while parsing (`unable to scan ...: REST`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Warning {
    pub what: &'static str,
    pub rest: Vec<u8>,
}

fn scaled(arg: &[u8], units: &[(u8, u64)]) -> u64 {
    let (v, n) = scan_ulong(arg);
    match arg.get(n) {
        Some(u) => match units.iter().find(|(c, _)| c == u) {
            Some((_, m)) => v.saturating_mul(*m),
            None => v,
        },
        None => v,
    }
}

/// runit's `ip4_scan` + `:port`: `A.B.C.D[:PORT]`, port 514 by default.
fn scan_udp(arg: &[u8]) -> Result<UdpAddr, &'static str> {
    let mut octets = [0u8; 4];
    let mut pos = 0;
    for (i, o) in octets.iter_mut().enumerate() {
        if i > 0 {
            if arg.get(pos) != Some(&b'.') {
                return Err("unable to scan ip address: ");
            }
            pos += 1;
        }
        let (v, n) = scan_ulong(&arg[pos.min(arg.len())..]);
        if n == 0 || v > 255 {
            return Err("unable to scan ip address: ");
        }
        *o = v as u8;
        pos += n;
    }
    let mut port = 514u64;
    if arg.get(pos) == Some(&b':') {
        let (v, _) = scan_ulong(&arg[pos + 1..]);
        if v == 0 || v > 65535 {
            return Err("unable to scan port number: ");
        }
        port = v;
    }
    Ok(UdpAddr {
        ip: octets,
        port: port as u16,
    })
}

/// Parses the whole `config` text; warnings are returned for the caller to print.
pub fn parse(text: &[u8]) -> (Config, Vec<Warning>) {
    let mut cfg = Config::default();
    let mut warnings = Vec::new();
    let mut i = 0;
    // `i + 1 < len`: runit ignores a final one-byte line without a newline.
    while i + 1 < text.len() {
        let len = text[i..]
            .iter()
            .position(|&b| b == b'\n')
            .unwrap_or(text.len() - i);
        let line = &text[i..i + len];
        i += len + 1;
        let Some((&kind, arg)) = line.split_first() else {
            continue;
        };
        match kind {
            b'+' | b'-' | b'e' | b'E' => cfg.instructions.push(Instruction {
                kind,
                pattern: arg.to_vec(),
            }),
            b's' => cfg.size = scaled(arg, &[(b'k', 1024), (b'm', 1024 * 1024)]),
            b'n' => cfg.nmax = scan_ulong(arg).0,
            b'N' => cfg.nmin = scan_ulong(arg).0,
            b't' => cfg.timeout = scaled(arg, &[(b'm', 60), (b'h', 3600)]),
            b'!' if !arg.is_empty() => cfg.processor = Some(arg.to_vec()),
            b'p' if !arg.is_empty() => cfg.prefix = arg.to_vec(),
            b'u' | b'U' => match scan_udp(arg) {
                Ok(addr) => {
                    cfg.udp = Some(addr);
                    cfg.udp_only = kind == b'U';
                }
                Err(what) => warnings.push(Warning {
                    what,
                    rest: arg.to_vec(),
                }),
            },
            _ => {}
        }
    }
    (cfg, warnings)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_numbers() {
        let (c, w) = parse(b"");
        assert_eq!(c, Config::default());
        assert!(w.is_empty());
        let (c, _) = parse(b"s100k\nn3\nN2\nt2m\n");
        assert_eq!((c.size, c.nmax, c.nmin, c.timeout), (102400, 3, 2, 120));
        assert_eq!(parse(b"s2m\n").0.size, 2 * 1024 * 1024);
        assert_eq!(parse(b"s 5k\n").0.size, 0);
        assert_eq!(parse(b"s5 k\n").0.size, 5);
        assert_eq!(parse(b"s5x\n").0.size, 5);
        assert_eq!(parse(b"t1h\n").0.timeout, 3600);
        assert_eq!(parse(b"t1d\n").0.timeout, 1);
        assert_eq!(parse(b"n0\n").0.nmax, 0);
        assert_eq!(parse(b"s99999999999999999999999k\n").0.size, u64::MAX);
    }

    #[test]
    fn last_line_and_comments() {
        assert_eq!(parse(b"n5").0.nmax, 5);
        // A final single byte without newline is ignored.
        assert_eq!(parse(b"n5\n-").0.instructions.len(), 0);
        assert_eq!(parse(b"n5\n-\n").0.instructions.len(), 1);
        assert_eq!(parse(b"#s5\n\nxyz\n").0, Config::default());
    }

    #[test]
    fn processor_prefix_patterns() {
        let (c, _) = parse(b"!gzip\n!\np> \np\n+a*\n-\ne*err*\nE\n");
        assert_eq!(c.processor.as_deref(), Some(&b"gzip"[..]));
        assert_eq!(c.prefix, b"> ");
        let kinds: Vec<u8> = c.instructions.iter().map(|i| i.kind).collect();
        assert_eq!(kinds, b"+-eE");
        assert_eq!(c.instructions[0].pattern, b"a*");
        assert!(c.instructions[1].pattern.is_empty());
    }

    /// Arbitrary bytes never panic the parser and keep defaults for unknown lines.
    #[test]
    fn property_random_bytes() {
        let mut x: u64 = 0x2545_f491_4f6c_dd1d;
        for _ in 0..20_000 {
            let len = (x % 40) as usize;
            let text: Vec<u8> = (0..len)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    let alphabet = b"sntNu!pU+-eE#\n0123456789.:km\xff";
                    alphabet[(x % alphabet.len() as u64) as usize]
                })
                .collect();
            let (c, _) = parse(&text);
            if !text.iter().any(|b| b"sntNu!pU+-eE".contains(b)) {
                assert_eq!(c, Config::default());
            }
        }
    }

    #[test]
    fn udp() {
        let (c, w) = parse(b"u127.0.0.1\n");
        assert!(w.is_empty());
        let addr = |ip, port| Some(UdpAddr { ip, port });
        assert_eq!(c.udp, addr([127, 0, 0, 1], 514));
        assert!(!c.udp_only);
        let (c, _) = parse(b"U10.1.2.3:5140\n");
        assert_eq!(c.udp, addr([10, 1, 2, 3], 5140));
        assert!(c.udp_only);
        let (c, w) = parse(b"u1.2.3\n");
        assert_eq!(c.udp, None);
        assert_eq!(w[0].what, "unable to scan ip address: ");
        assert_eq!(w[0].rest, b"1.2.3");
        let (c, w) = parse(b"u1.2.3.4:0\n");
        assert_eq!(c.udp, None);
        assert_eq!(w[0].what, "unable to scan port number: ");
    }
}
