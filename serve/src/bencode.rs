//! Bencode, the encoding of ng messages: integers `i42e`, byte strings `4:spam`, lists
//! `l…e` and dictionaries `d…e`.
//!
//! The parser is total: any input gives a value or a [`BencodeError`], never a panic, with
//! nesting limited so hostile input cannot exhaust the stack. Dictionary keys are kept in
//! arrival order and need not be sorted: proxies do not sort them.

use thiserror::Error;

/// Deepest nesting accepted.
const MAX_DEPTH: usize = 32;

/// A bencoded value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    /// An integer.
    Int(i64),
    /// A byte string (usually text).
    Bytes(Vec<u8>),
    /// A list.
    List(Vec<Value>),
    /// A dictionary, in arrival order.
    Dict(Vec<(Vec<u8>, Value)>),
}

/// Why bytes are not bencode.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum BencodeError {
    /// The input ended inside a value.
    #[error("bencode ends early at byte {0}")]
    Truncated(usize),
    /// A byte that cannot start or continue a value.
    #[error("unexpected byte {byte:#04x} at {at}")]
    Unexpected {
        /// The byte.
        byte: u8,
        /// Its offset.
        at: usize,
    },
    /// An integer or length that is malformed or out of range.
    #[error("bad number at byte {0}")]
    BadNumber(usize),
    /// Nested deeper than the limit.
    #[error("nested deeper than {MAX_DEPTH}")]
    TooDeep,
    /// A dictionary key that is not a byte string.
    #[error("dictionary key at byte {0} is not a string")]
    BadKey(usize),
}

impl Value {
    /// A string value.
    pub fn str(s: &str) -> Value {
        Value::Bytes(s.as_bytes().to_vec())
    }

    /// An empty dictionary.
    pub fn dict() -> Value {
        Value::Dict(Vec::new())
    }

    /// Adds `key: value` to a dictionary (no effect on other values); returns it for chaining.
    pub fn with(mut self, key: &str, value: Value) -> Value {
        if let Value::Dict(d) = &mut self {
            d.push((key.as_bytes().to_vec(), value));
        }
        self
    }

    /// The value under `key`, if this is a dictionary that has it (first occurrence).
    pub fn get(&self, key: &str) -> Option<&Value> {
        match self {
            Value::Dict(d) => d.iter().find(|(k, _)| k == key.as_bytes()).map(|(_, v)| v),
            _ => None,
        }
    }

    /// The value as UTF-8 text, if it is a byte string that is valid UTF-8.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Bytes(b) => std::str::from_utf8(b).ok(),
            _ => None,
        }
    }

    /// The value as an integer (a bencoded integer, or a string of digits as some proxies
    /// send).
    pub fn as_int(&self) -> Option<i64> {
        match self {
            Value::Int(i) => Some(*i),
            Value::Bytes(_) => self.as_str()?.trim().parse().ok(),
            _ => None,
        }
    }

    /// The items, if this is a list.
    pub fn as_list(&self) -> Option<&[Value]> {
        match self {
            Value::List(l) => Some(l),
            _ => None,
        }
    }

    /// Appends the encoding of this value to `out`.
    pub fn encode(&self, out: &mut Vec<u8>) {
        match self {
            Value::Int(i) => out.extend_from_slice(format!("i{i}e").as_bytes()),
            Value::Bytes(b) => {
                out.extend_from_slice(b.len().to_string().as_bytes());
                out.push(b':');
                out.extend_from_slice(b);
            }
            Value::List(l) => {
                out.push(b'l');
                for v in l {
                    v.encode(out);
                }
                out.push(b'e');
            }
            Value::Dict(d) => {
                out.push(b'd');
                for (k, v) in d {
                    Value::Bytes(k.clone()).encode(out);
                    v.encode(out);
                }
                out.push(b'e');
            }
        }
    }

    /// The encoding as a new vector.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut v = Vec::new();
        self.encode(&mut v);
        v
    }
}

/// Parses one value from the start of `input`; returns it and the bytes it used.
pub fn parse_prefix(input: &[u8]) -> Result<(Value, usize), BencodeError> {
    let mut p = Parser { input, pos: 0 };
    let v = p.value(0)?;
    Ok((v, p.pos))
}

/// Parses exactly one value; trailing bytes are an error.
pub fn parse(input: &[u8]) -> Result<Value, BencodeError> {
    let (v, used) = parse_prefix(input)?;
    match input.get(used) {
        None => Ok(v),
        Some(&byte) => Err(BencodeError::Unexpected { byte, at: used }),
    }
}

struct Parser<'a> {
    input: &'a [u8],
    pos: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Result<u8, BencodeError> {
        self.input
            .get(self.pos)
            .copied()
            .ok_or(BencodeError::Truncated(self.pos))
    }

    fn value(&mut self, depth: usize) -> Result<Value, BencodeError> {
        if depth > MAX_DEPTH {
            return Err(BencodeError::TooDeep);
        }
        match self.peek()? {
            b'i' => {
                self.pos += 1;
                let n = self.number(b'e')?;
                Ok(Value::Int(n))
            }
            b'0'..=b'9' => self.bytes().map(Value::Bytes),
            b'l' => {
                self.pos += 1;
                let mut items = Vec::new();
                while self.peek()? != b'e' {
                    items.push(self.value(depth + 1)?);
                }
                self.pos += 1;
                Ok(Value::List(items))
            }
            b'd' => {
                self.pos += 1;
                let mut items = Vec::new();
                while self.peek()? != b'e' {
                    let at = self.pos;
                    if !self.peek()?.is_ascii_digit() {
                        return Err(BencodeError::BadKey(at));
                    }
                    let k = self.bytes()?;
                    let v = self.value(depth + 1)?;
                    items.push((k, v));
                }
                self.pos += 1;
                Ok(Value::Dict(items))
            }
            byte => Err(BencodeError::Unexpected { byte, at: self.pos }),
        }
    }

    /// Digits (with an optional leading minus) up to `end`, which is consumed.
    fn number(&mut self, end: u8) -> Result<i64, BencodeError> {
        let start = self.pos;
        while self.peek()? != end {
            self.pos += 1;
            if self.pos - start > 20 {
                return Err(BencodeError::BadNumber(start));
            }
        }
        let text = std::str::from_utf8(&self.input[start..self.pos])
            .map_err(|_| BencodeError::BadNumber(start))?;
        self.pos += 1;
        let ok = !text.is_empty()
            && text
                .strip_prefix('-')
                .unwrap_or(text)
                .bytes()
                .all(|b| b.is_ascii_digit())
            && text != "-";
        if !ok {
            return Err(BencodeError::BadNumber(start));
        }
        text.parse().map_err(|_| BencodeError::BadNumber(start))
    }

    fn bytes(&mut self) -> Result<Vec<u8>, BencodeError> {
        let at = self.pos;
        let len = self.number(b':')?;
        let len = usize::try_from(len).map_err(|_| BencodeError::BadNumber(at))?;
        let end = self
            .pos
            .checked_add(len)
            .ok_or(BencodeError::BadNumber(at))?;
        if end > self.input.len() {
            return Err(BencodeError::Truncated(self.input.len()));
        }
        let b = self.input[self.pos..end].to_vec();
        self.pos = end;
        Ok(b)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_the_shapes_ng_uses() {
        let msg = b"d7:command5:offer7:call-id3:abc5:flagsl13:trust-addresse6:repeati2ee";
        let v = parse(msg).unwrap();
        assert_eq!(v.get("command").and_then(Value::as_str), Some("offer"));
        assert_eq!(v.get("call-id").and_then(Value::as_str), Some("abc"));
        assert_eq!(
            v.get("flags").and_then(Value::as_list).map(<[Value]>::len),
            Some(1)
        );
        assert_eq!(v.get("repeat").and_then(Value::as_int), Some(2));
        assert_eq!(
            v.to_bytes(),
            msg.to_vec(),
            "unsorted keys survive a round trip"
        );
    }

    #[test]
    fn bad_input_is_an_error() {
        for (input, _why) in [
            (&b""[..], "empty"),
            (b"i12", "no end"),
            (b"i-e", "no digits"),
            (b"i1x2e", "junk in integer"),
            (b"5:abc", "short string"),
            (b"d3:keye", "no value"),
            (b"di1ei2ee", "integer key"),
            (b"x", "unknown type"),
            (b"99999999999999999999999:a", "huge length"),
            (b"i1ei2e", "trailing"),
        ] {
            assert!(parse(input).is_err(), "{input:?}");
        }
        let deep = vec![b'l'; 10_000];
        assert_eq!(parse(&deep), Err(BencodeError::TooDeep));
    }

    /// Any bencoded value (shared with the TCP framer's tests).
    pub(crate) fn value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            any::<i64>().prop_map(Value::Int),
            proptest::collection::vec(any::<u8>(), 0..20).prop_map(Value::Bytes),
        ];
        leaf.prop_recursive(4, 32, 6, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::List),
                proptest::collection::vec(
                    (proptest::collection::vec(any::<u8>(), 0..8), inner),
                    0..6
                )
                .prop_map(Value::Dict),
            ]
        })
    }

    proptest! {
        #[test]
        fn encode_then_parse_is_identity(v in value()) {
            prop_assert_eq!(parse(&v.to_bytes()).unwrap(), v);
        }

        #[test]
        fn any_bytes_parse_or_fail_cleanly(b in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = parse(&b);
        }
    }
}
