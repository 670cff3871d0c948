//! `assay.common.v1.Message`, written by hand rather than generated.
//!
//! The screening engine gives a few messages with every verdict, a hundred thousand verdicts
//! a second. Nearly all of a message is known in advance: its id, its arguments' names,
//! most of their values ("title", "fuzzy"). Generated, each of those would be a `String` of
//! its own in a `BTreeMap`, about ten allocations for a message; here they are borrowed, and
//! a message costs one allocation and its quoted texts. On the wire it is the same message:
//! `args` is encoded as the protobuf map it is declared as.

use std::borrow::Cow;

use prost::DecodeError;
use prost::bytes::{Buf, BufMut};
use prost::encoding::{self, DecodeContext, WireType};

/// Text that is usually known in advance, and otherwise owned.
pub type Text = Cow<'static, str>;

/// Something Assay says: a message of a catalogue and its arguments by name. Messages are
/// ordered by id, then by their arguments in order of name.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Message {
    /// The message's id in the catalogue, e.g. "signal-brand-text".
    pub id: Text,
    /// Its arguments, by name: ordered by name, each name once (as [`Message::new`] and
    /// decoding keep them).
    args: Vec<(Text, Text)>,
}

impl Message {
    /// A message with its arguments, in any order; a name given twice keeps its last value.
    pub fn new(id: impl Into<Text>, args: impl IntoIterator<Item = (Text, Text)>) -> Self {
        let mut message = Message {
            id: id.into(),
            args: args.into_iter().collect(),
        };
        // Usually given in order already: then nothing moves.
        if !message.args.is_sorted_by(|(a, _), (b, _)| a < b) {
            for (name, value) in std::mem::take(&mut message.args) {
                message.set(name, value);
            }
        }
        message
    }

    /// Its arguments, ordered by name.
    pub fn args(&self) -> impl ExactSizeIterator<Item = (&str, &str)> {
        self.args.iter().map(|(name, value)| (&**name, &**value))
    }

    /// The value of argument `name`.
    pub fn arg(&self, name: &str) -> Option<&str> {
        if self.args.len() <= 8 {
            // A message has a few: looked at in turn, the names' lengths first.
            return self
                .args
                .iter()
                .find(|(n, _)| **n == *name)
                .map(|(_, value)| &**value);
        }
        self.find(name).ok().map(|at| &*self.args[at].1)
    }

    /// Sets argument `name` to `value`.
    pub fn set(&mut self, name: impl Into<Text>, value: impl Into<Text>) {
        let (name, value) = (name.into(), value.into());
        match self.find(&name) {
            Ok(at) => self.args[at].1 = value,
            Err(at) => self.args.insert(at, (name, value)),
        }
    }

    fn find(&self, name: &str) -> Result<usize, usize> {
        // Few arguments, usually set in order: from the end.
        match self.args.last() {
            Some((last, _)) if **last < *name => Err(self.args.len()),
            _ => self.args.binary_search_by(|(n, _)| (**n).cmp(name)),
        }
    }
}

const ID: u32 = 1;
const ARGS: u32 = 2;

fn text_len(tag: u32, text: &str) -> usize {
    if text.is_empty() {
        0
    } else {
        encoding::key_len(tag) + encoding::encoded_len_varint(text.len() as u64) + text.len()
    }
}

fn put_text(tag: u32, text: &str, buf: &mut impl BufMut) {
    if !text.is_empty() {
        encoding::encode_key(tag, WireType::LengthDelimited, buf);
        encoding::encode_varint(text.len() as u64, buf);
        buf.put_slice(text.as_bytes());
    }
}

/// A map entry's length: its key (1) and value (2), each left out when empty, as protobuf
/// leaves out defaults.
fn entry_len(name: &str, value: &str) -> usize {
    text_len(1, name) + text_len(2, value)
}

/// One argument as decoded: a map entry.
#[derive(Clone, PartialEq, prost::Message)]
struct Entry {
    #[prost(string, tag = "1")]
    name: String,
    #[prost(string, tag = "2")]
    value: String,
}

impl prost::Message for Message {
    fn encode_raw(&self, buf: &mut impl BufMut) {
        put_text(ID, &self.id, buf);
        for (name, value) in &self.args {
            encoding::encode_key(ARGS, WireType::LengthDelimited, buf);
            encoding::encode_varint(entry_len(name, value) as u64, buf);
            put_text(1, name, buf);
            put_text(2, value, buf);
        }
    }

    fn merge_field(
        &mut self,
        tag: u32,
        wire_type: WireType,
        buf: &mut impl Buf,
        ctx: DecodeContext,
    ) -> Result<(), DecodeError> {
        match tag {
            ID => {
                let mut id = String::new();
                encoding::string::merge(wire_type, &mut id, buf, ctx)?;
                self.id = id.into();
                Ok(())
            }
            ARGS => {
                let mut entry = Entry::default();
                encoding::message::merge(wire_type, &mut entry, buf, ctx)?;
                self.set(entry.name, entry.value);
                Ok(())
            }
            _ => encoding::skip_field(wire_type, tag, buf, ctx),
        }
    }

    fn encoded_len(&self) -> usize {
        text_len(ID, &self.id)
            + self
                .args
                .iter()
                .map(|(name, value)| {
                    let len = entry_len(name, value);
                    encoding::key_len(ARGS) + encoding::encoded_len_varint(len as u64) + len
                })
                .sum::<usize>()
    }

    fn clear(&mut self) {
        self.id = Cow::Borrowed("");
        self.args.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use prost::Message as _;
    use std::collections::BTreeMap;

    /// The message as prost generates it from `common.proto`.
    #[derive(Clone, PartialEq, prost::Message)]
    struct Generated {
        #[prost(string, tag = "1")]
        id: String,
        #[prost(btree_map = "string, string", tag = "2")]
        args: BTreeMap<String, String>,
    }

    fn generated() -> Generated {
        Generated {
            id: "signal-brand-text".into(),
            args: [
                ("text", "\"Guuci\""),
                ("field", "title"),
                ("empty", ""),
                ("", "no name"),
                ("brand", "\"Gucci\" 古驰"),
            ]
            .into_iter()
            .map(|(n, v)| (n.to_owned(), v.to_owned()))
            .collect(),
        }
    }

    #[test]
    fn it_is_the_generated_message_on_the_wire() {
        let generated = generated();
        let message = Message::new(
            "signal-brand-text",
            generated
                .args
                .iter()
                .rev()
                .map(|(n, v)| (n.clone().into(), v.clone().into())),
        );
        let bytes = message.encode_to_vec();
        assert_eq!(bytes.len(), message.encoded_len());
        assert_eq!(bytes, generated.encode_to_vec());
        assert_eq!(Message::decode(&*bytes).unwrap(), message);
        assert_eq!(Generated::decode(&*bytes).unwrap(), generated);
        assert_eq!(Message::default().encode_to_vec(), Vec::<u8>::new());
    }

    #[test]
    fn arguments_are_kept_by_name_once_and_in_order() {
        let mut message = Message::new(
            "m",
            [
                ("b".into(), "1".into()),
                ("a".into(), "2".into()),
                ("b".into(), "3".into()),
            ],
        );
        message.set("c", "4");
        assert_eq!(
            message.args().collect::<Vec<_>>(),
            [("a", "2"), ("b", "3"), ("c", "4")]
        );
        assert_eq!(message.arg("b"), Some("3"));
        assert_eq!(message.arg("d"), None);

        // A name sent twice keeps its last value, as protobuf maps do; unknown fields are
        // skipped.
        let mut bytes = Message::new("m", [("b".into(), "1".into())]).encode_to_vec();
        bytes.extend(Message::new("", [("b".into(), "2".into())]).encode_to_vec());
        bytes.extend([0x18, 0x07]); // field 3, a varint
        let decoded = Message::decode(&*bytes).unwrap();
        assert_eq!(decoded, Message::new("m", [("b".into(), "2".into())]));
        assert!(Message::decode(&[0x12, 0x05, 0x0a][..]).is_err());
    }
}
