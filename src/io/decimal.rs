//! Numbers written as `{}` writes them, without going through `fmt`: the spike rows of a long
//! run are millions of lines, and `fmt`'s float path (Grisu, then the digits placed through a
//! formatter) costs more per row than the kernel's search for the spike.
//!
//! A float's shortest round-trip digits are found by `ryu` (the digits `{}` prints: both give the
//! shortest digit string that reads back as the same float, the closest one to it when several
//! are as short) and placed as `{}` places them — positional notation, never an exponent, no
//! trailing `.0`. Where a float lies exactly halfway between two shortest candidates the two
//! round differently (ryu to even); such floats (a few binary digits only) are detected exactly
//! and written by `{}` itself. The equality with `{}` is a tested contract (see the tests below).

/// Rows of comma-separated numbers, each written as `{}` writes it ([`push_f64`],
/// [`push_u64`]), handed on to `w` in pieces of a few KiB: one small buffer whatever the number
/// of rows (the spike, readout and state files of a long run are millions of rows).
pub(crate) struct Rows<'a, W: std::io::Write> {
    w: &'a mut W,
    buf: Vec<u8>,
    /// Whether the current row has a field yet (the next one is preceded by a comma).
    open: bool,
}

impl<'a, W: std::io::Write> Rows<'a, W> {
    /// The size of the pieces handed on.
    const PIECE: usize = 8 * 1024;

    /// Rows written to `w`.
    pub(crate) fn new(w: &'a mut W) -> Self {
        Rows {
            w,
            buf: Vec::with_capacity(Self::PIECE),
            open: false,
        }
    }

    fn comma(&mut self) {
        if self.open {
            self.buf.push(b',');
        }
        self.open = true;
    }

    /// The next field: a float.
    pub(crate) fn f64(&mut self, x: f64) {
        self.comma();
        push_f64(&mut self.buf, x);
    }

    /// The next field: an integer.
    pub(crate) fn u64(&mut self, x: u64) {
        self.comma();
        push_u64(&mut self.buf, x);
    }

    /// Ends the row (a newline), handing the buffer on once it holds half a piece.
    pub(crate) fn end(&mut self) -> std::io::Result<()> {
        self.buf.push(b'\n');
        self.open = false;
        if self.buf.len() >= Self::PIECE / 2 {
            self.w.write_all(&self.buf)?;
            self.buf.clear();
        }
        Ok(())
    }

    /// Hands on what is left.
    pub(crate) fn finish(self) -> std::io::Result<()> {
        self.w.write_all(&self.buf)
    }
}

/// Appends `x` to `out` exactly as `write!(out, "{x}")` would.
pub(crate) fn push_f64(out: &mut Vec<u8>, x: f64) {
    if !x.is_finite() {
        out.extend_from_slice(format!("{x}").as_bytes());
        return;
    }
    let mut buf = ryu::Buffer::new();
    let s = buf.format_finite(x).as_bytes();
    // The usual case: ryu's positional form `d.ddd` (for 10⁻⁵ ≤ |x| < 10¹⁶) is `{}`'s, unless it
    // ends in `.0` or may be a tie (below).
    if let (false, Some(dot)) = (s.contains(&b'e'), s.iter().position(|&c| c == b'.')) {
        let fraction = (s.len() - dot - 1) as i32;
        if !s.ends_with(b".0") && -fraction != last_binary_place(x) + 1 {
            out.extend_from_slice(s);
            return;
        }
    }
    let (neg, s) = match s.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, s),
    };
    // ryu writes `d.ddd`, `0.000ddd`, `ddd.0` or `d.ddde±x`: split into the significant digits
    // and the place of the decimal point (digits before it, possibly ≤ 0 or > their count).
    let (mantissa, exp10) = match s.iter().position(|&c| c == b'e') {
        Some(e) => (&s[..e], parse_exponent(&s[e + 1..])),
        None => (s, 0),
    };
    let dot = mantissa
        .iter()
        .position(|&c| c == b'.')
        .unwrap_or(mantissa.len());
    let mut digits = [0u8; 32];
    let mut n = 0;
    let mut point = dot as i32 + exp10;
    let mut leading = true;
    for &c in mantissa.iter().filter(|&&c| c != b'.') {
        if leading && c == b'0' {
            point -= 1; // (a leading zero of `0.000ddd` or of `0.0`)
            continue;
        }
        leading = false;
        digits[n] = c;
        n += 1;
    }
    while n > 0 && digits[n - 1] == b'0' {
        n -= 1;
    }
    if n > 0 && point - n as i32 == last_binary_place(x) + 1 {
        // `x` may lie exactly halfway between two shortest candidates (its exact expansion
        // ends in a 5 just past ryu's last digit), where ryu rounds to even and `{}` does not.
        out.extend_from_slice(format!("{x}").as_bytes());
        return;
    }
    if neg {
        out.push(b'-');
    }
    let digits = &digits[..n];
    if n == 0 {
        out.push(b'0'); // ±0
    } else if point <= 0 {
        out.extend_from_slice(b"0.");
        out.extend(std::iter::repeat_n(b'0', (-point) as usize));
        out.extend_from_slice(digits);
    } else if point as usize >= n {
        out.extend_from_slice(digits);
        out.extend(std::iter::repeat_n(b'0', point as usize - n));
    } else {
        let (int, frac) = digits.split_at(point as usize);
        out.extend_from_slice(int);
        out.push(b'.');
        out.extend_from_slice(frac);
    }
}

/// The `e` of `x = m · 2^e` with `m` odd (`x` finite, non-zero): an exact tie between two
/// decimal candidates whose last digit is at 10^q needs `x`'s last non-zero decimal digit, at
/// 10^(q−1), to be a 5 — and that digit sits at 10^e for e < 0 (the last digit of an odd
/// multiple of 2^e), while for e ≥ 0 it needs 2^(q−1) to be the power of two in `x`, q = e + 1.
fn last_binary_place(x: f64) -> i32 {
    let bits = x.to_bits();
    let (exp, frac) = (((bits >> 52) & 0x7ff) as i32, bits & ((1 << 52) - 1));
    let (m, e) = if exp == 0 {
        (frac, -1074)
    } else {
        (frac | (1 << 52), exp - 1075)
    };
    e + m.trailing_zeros() as i32
}

/// Appends `x` to `out` as `write!(out, "{x}")` would.
#[inline]
pub(crate) fn push_u64(out: &mut Vec<u8>, x: u64) {
    let mut buf = itoa::Buffer::new();
    out.extend_from_slice(buf.format(x).as_bytes());
}

/// The exponent after ryu's `e` (an optional `-`, then decimal digits).
fn parse_exponent(s: &[u8]) -> i32 {
    let (neg, s) = match s.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, s),
    };
    let v = s
        .iter()
        .fold(0i32, |v, &c| v * 10 + i32::from(c.wrapping_sub(b'0')));
    if neg {
        -v
    } else {
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn as_display(x: f64) -> String {
        let mut v = Vec::new();
        push_f64(&mut v, x);
        String::from_utf8(v).unwrap()
    }

    #[test]
    fn rows_are_what_write_writes_in_any_number_of_pieces() {
        // Enough rows to be handed on in many pieces, fields of both kinds.
        let (mut got, mut want) = (Vec::new(), String::new());
        let mut rows = Rows::new(&mut got);
        for i in 0..5000u64 {
            let (t, v) = (i as f64 * 1.234_567e-4, -(i as f64).sqrt() / 3.0);
            rows.f64(t);
            rows.u64(i);
            rows.f64(v);
            rows.end().unwrap();
            want.push_str(&format!("{t},{i},{v}\n"));
        }
        rows.finish().unwrap();
        assert!(want.len() > 8 * 8 * 1024);
        assert_eq!(String::from_utf8(got).unwrap(), want);
    }

    #[test]
    fn edge_values_read_as_display_writes_them() {
        let cases = [
            0.0,
            -0.0,
            1.0,
            -1.0,
            0.1,
            10.0,
            100.0,
            1e15,
            1e16,
            1e17,
            1e21,
            1e22,
            1e23,
            1.5e300,
            f64::MAX,
            f64::MIN_POSITIVE,
            5e-324,
            1e-5,
            1e-6,
            1e-7,
            0.000123,
            123456789.125,
            9.999999999999999e-5,
            f64::from_bits(14_052_034_161_633_048_234), // −663365483058901.25: a tie
            1.0 + 3.0 * 2f64.powi(-17),
            2.0f64.powi(53),
            2.0f64.powi(63),
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::EPSILON,
        ];
        for x in cases {
            assert_eq!(as_display(x), format!("{x}"), "{x:e}");
        }
        for x in [0u64, 7, 10, 1599, u32::MAX as u64, u64::MAX] {
            let mut v = Vec::new();
            push_u64(&mut v, x);
            assert_eq!(v, x.to_string().into_bytes());
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(20_000))]

        /// Any float's bits (every exponent, subnormals included).
        #[test]
        fn any_float_reads_as_display_writes_it(bits in any::<u64>()) {
            let x = f64::from_bits(bits);
            prop_assert_eq!(as_display(x), format!("{x}"));
        }

        /// Floats of few binary digits, `m · 2^e`: where exact ties between two shortest
        /// candidates are.
        #[test]
        fn short_binary_floats_read_as_display_writes_them(
            m in 1u64..(1 << 54), shift in 0u32..54, e in -1074i32..971,
        ) {
            let m = (m >> shift) | 1;
            let x = m as f64 * 2f64.powi(e);
            prop_assert_eq!(as_display(x), format!("{x}"));
        }

        /// Spike-time-like values: seconds from 0 to 10⁴, and short decimals.
        #[test]
        fn times_read_as_display_writes_them(t in 0.0f64..1e4, k in 0u32..100_000, e in 0i32..8) {
            prop_assert_eq!(as_display(t), format!("{t}"));
            let short = k as f64 / 10f64.powi(e);
            prop_assert_eq!(as_display(short), format!("{short}"));
        }
    }
}
