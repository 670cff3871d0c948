//! Plain ASCII letters that pass for others at a glance: "rn" for "m", "vv" for "w", "cl"
//! for "d", "lh" for "h", "q" for "g", "e" for "c", "v" for "u" — the homoglyphs that
//! typosquatting tools try, and again on what they made ("m" as "nn", then as "nr"). Each
//! is a letter or two apart from the name, so edit distance sees a misspelling two or
//! three letters off, or nothing; read letter by letter as they look, the name is all
//! there.
//!
//! The look-alikes are dnstwist's ASCII homoglyphs, the table the typosquatting tool
//! applies twice over. Everything here is in normalised text, where `l`, `I` and `1` are
//! already `i` and `0` is `o`.

use std::hash::{Hash, Hasher};
use std::sync::LazyLock;

use rustc_hash::{FxHashMap, FxHasher};

use super::fuzzy::MAX_WORD;

/// What each letter (or pair) of a name may be written as, one rewrite away: dnstwist's
/// `glyphs_ascii`, normalised (`l` and `1` are `i`), without the digits (they are read as
/// letters before this) and what normalisation makes equal already.
const GLYPHS: &[(&[u8], &[&[u8]])] = &[
    (b"b", &[b"d", b"ib"]),
    (b"c", &[b"e"]),
    (b"d", &[b"b", b"ci", b"di"]),
    (b"e", &[b"c"]),
    (b"g", &[b"q"]),
    (b"h", &[b"ih"]),
    (b"k", &[b"ic"]),
    (b"m", &[b"n", b"nn", b"rn"]),
    (b"n", &[b"m", b"r"]),
    (b"q", &[b"g"]),
    (b"u", &[b"v"]),
    (b"v", &[b"u"]),
    (b"w", &[b"vv"]),
    (b"rn", &[b"m"]),
    (b"ci", &[b"d"]),
];

/// A piece of a name and what it may be written as, in how many rewrites.
struct Lookalike {
    meant: Vec<u8>,
    written: Vec<u8>,
    rewrites: usize,
}

/// Every rewrite of [`GLYPHS`], and every second rewrite of what one made: "m" as "nn" (1),
/// and as "nr" or "mn" (2).
static LOOKALIKES: LazyLock<Vec<Lookalike>> = LazyLock::new(|| {
    let once = |text: &[u8]| -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        for (from, tos) in GLYPHS {
            for at in 0..text.len() {
                if text[at..].starts_with(from) {
                    for to in *tos {
                        out.push([&text[..at], to, &text[at + from.len()..]].concat());
                    }
                }
            }
        }
        out
    };
    let mut all: Vec<Lookalike> = Vec::new();
    for (meant, _) in GLYPHS {
        for first in once(meant) {
            for second in once(&first) {
                if second != *meant && !all.iter().any(|l| l.meant == *meant && l.written == second)
                {
                    all.push(Lookalike {
                        meant: meant.to_vec(),
                        written: second,
                        rewrites: 2,
                    });
                }
            }
            all.retain(|l| !(l.meant == *meant && l.written == first));
            all.push(Lookalike {
                meant: meant.to_vec(),
                written: first,
                rewrites: 1,
            });
        }
    }
    all
});

/// Where in [`LOOKALIKES`] the spellings starting with each byte are.
static BY_FIRST_LETTER: LazyLock<Vec<Vec<usize>>> = LazyLock::new(|| {
    let mut index = vec![Vec::new(); 256];
    for (k, lookalike) in LOOKALIKES.iter().enumerate() {
        index[usize::from(lookalike.written[0])].push(k);
    }
    index
});

/// Rewrites at most in one name, as the tools make them.
const MAX_REWRITES: usize = 2;

/// One place where the listing writes a look-alike: `len` bytes of the word at `at` pass
/// for `stands_for` of the name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Swap {
    pub(crate) at: usize,
    pub(crate) len: usize,
    pub(crate) stands_for: Vec<u8>,
}

/// How `word` reads as `name` letter by letter, when it does only through look-alikes: at
/// least one rewrite, at most [`MAX_REWRITES`], and one at most in a name of three letters
/// or fewer.
pub(crate) fn read_as(word: &[u8], name: &[u8]) -> Option<Vec<Swap>> {
    if word.len() > MAX_WORD || name.len() > MAX_WORD || word == name {
        return None;
    }
    let most = MAX_REWRITES.min(name.len().div_ceil(3));
    let mut dead = [[0u32; MAX_WORD + 1]; MAX_REWRITES + 1];
    let mut swaps = Vec::new();
    align(word, name, (0, 0), most, &mut dead, &mut swaps).then_some(swaps)
}

/// Depth-first over the two texts, remembering the places (`i`, `j`, rewrites `left`) that
/// lead nowhere, so the work is bounded by their product. Whether a place leads to the end
/// does not depend on the way there: a way with no rewrite at all is the word equal to the
/// name, ruled out before.
fn align(
    word: &[u8],
    name: &[u8],
    (i, j): (usize, usize),
    left: usize,
    dead: &mut [[u32; MAX_WORD + 1]; MAX_REWRITES + 1],
    swaps: &mut Vec<Swap>,
) -> bool {
    if i == word.len() && j == name.len() {
        return true;
    }
    if dead[left][i] & (1 << j) != 0 {
        return false;
    }
    if i < word.len()
        && j < name.len()
        && word[i] == name[j]
        && align(word, name, (i + 1, j + 1), left, dead, swaps)
    {
        return true;
    }
    let Some(&next) = word.get(i) else {
        dead[left][i] |= 1 << j;
        return false;
    };
    for lookalike in BY_FIRST_LETTER[usize::from(next)]
        .iter()
        .map(|&k| &LOOKALIKES[k])
    {
        if lookalike.rewrites <= left
            && word[i..].starts_with(&lookalike.written)
            && name[j..].starts_with(&lookalike.meant)
        {
            swaps.push(Swap {
                at: i,
                len: lookalike.written.len(),
                stands_for: lookalike.meant.clone(),
            });
            let next = (i + lookalike.written.len(), j + lookalike.meant.len());
            if align(word, name, next, left - lookalike.rewrites, dead, swaps) {
                return true;
            }
            swaps.pop();
        }
    }
    dead[left][i] |= 1 << j;
    false
}

/// A key under which every spelling of a name through look-alikes falls: letters that pass
/// for each other are one letter, `i` (the `l` of "cl", "lh", "lb", "lc") is left out, and a
/// run of one letter counts once ("rn" and "m", "vv" and "w"). Every rewrite of [`GLYPHS`]
/// keeps it (a test says so).
fn key(text: &[u8]) -> Option<u64> {
    if text.len() > MAX_WORD || !text.iter().all(u8::is_ascii_lowercase) {
        return None;
    }
    let mut hasher = FxHasher::default();
    let mut last = 0u8;
    for &b in text {
        let class = match b {
            b'b' | b'c' | b'd' | b'e' | b'k' => b'b',
            b'g' | b'q' => b'g',
            b'u' | b'v' | b'w' => b'u',
            b'm' | b'n' | b'r' => b'm',
            b'i' => continue,
            b => b,
        };
        if class != last {
            class.hash(&mut hasher);
            last = class;
        }
    }
    Some(hasher.finish())
}

/// Names by their look-alike key.
#[derive(Debug, Default)]
pub(crate) struct LookalikeIndex {
    names: FxHashMap<u64, Vec<u32>>,
}

impl LookalikeIndex {
    pub(crate) fn insert(&mut self, name: &[u8], id: u32) {
        if let Some(key) = key(name) {
            self.names.entry(key).or_default().push(id);
        }
    }

    /// Ids of names that `word` may be written for in look-alikes (check with [`read_as`]).
    pub(crate) fn candidates(&self, word: &[u8]) -> &[u32] {
        key(word)
            .and_then(|key| self.names.get(&key))
            .map_or(&[], Vec::as_slice)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reads(word: &str, name: &str) -> Option<Vec<(String, String)>> {
        read_as(word.as_bytes(), name.as_bytes()).map(|swaps| {
            swaps
                .iter()
                .map(|s| {
                    (
                        word[s.at..s.at + s.len].to_owned(),
                        String::from_utf8(s.stands_for.clone()).unwrap(),
                    )
                })
                .collect()
        })
    }

    #[test]
    fn names_written_in_look_alikes_are_read() {
        let pairs = |v: &[(&str, &str)]| {
            Some(
                v.iter()
                    .map(|(a, b)| (a.to_string(), b.to_string()))
                    .collect::<Vec<_>>(),
            )
        };
        // Normalised: l is i.
        assert_eq!(
            reads("cihanci", "chanei"),
            pairs(&[("ih", "h"), ("c", "e")])
        );
        assert_eq!(reads("hernnes", "hermes"), pairs(&[("nn", "m")]));
        assert_eq!(reads("svvatch", "swatch"), pairs(&[("vv", "w")]));
        assert_eq!(reads("gveci", "gucci"), pairs(&[("v", "u"), ("e", "c")]));
        assert_eq!(
            reads("iburibery", "burbery"),
            pairs(&[("ib", "b"), ("ib", "b")])
        );
        assert_eq!(reads("orneqa", "omega"), pairs(&[("rn", "m"), ("q", "g")]));
        // A look-alike of a look-alike: "m" as "nn", then as "nr"; "b" as "d", then "dl".
        assert_eq!(reads("hernres", "hermes"), pairs(&[("nr", "m")]));
        assert_eq!(reads("diurberry", "burberry"), pairs(&[("di", "b")]));
    }

    #[test]
    fn other_words_are_not() {
        // The same word, a plain misspelling, letters that do not look alike.
        assert_eq!(reads("gucci", "gucci"), None);
        assert_eq!(reads("guci", "gucci"), None);
        assert_eq!(reads("gxcci", "gucci"), None);
        // Too many look-alikes for the length of the name.
        assert_eq!(reads("rnvv", "mw"), None);
        assert_eq!(reads("dcbe", "bdec"), None);
    }

    #[test]
    fn every_rewrite_keeps_the_key() {
        assert!(LOOKALIKES.len() > GLYPHS.len());
        for lookalike in LOOKALIKES.iter() {
            assert_eq!(
                key(&lookalike.meant),
                key(&lookalike.written),
                "{:?} as {:?}",
                String::from_utf8_lossy(&lookalike.meant),
                String::from_utf8_lossy(&lookalike.written)
            );
        }
    }

    #[test]
    fn every_spelling_in_look_alikes_shares_the_names_key() {
        for (word, name) in [
            ("cihanci", "chanei"),
            ("hernnes", "hermes"),
            ("svvatch", "swatch"),
            ("gveci", "gucci"),
            ("iburibery", "burbery"),
            ("orneqa", "omega"),
            ("aciidas", "adidas"),
            ("hernres", "hermes"),
            ("diurberry", "burberry"),
        ] {
            assert_eq!(key(word.as_bytes()), key(name.as_bytes()), "{word}");
            assert!(
                read_as(word.as_bytes(), name.as_bytes()).is_some(),
                "{word}"
            );
        }
        assert_ne!(key(b"prada"), key(b"gucci"));
        assert_eq!(key(b"gucc1"), None);
    }
}
