//! Bounded misspellings of brand names, found through a deletion index (SymSpell): every
//! term is stored under itself and each of its variants with one (or two) letters deleted;
//! a listing word looks up its own deletion variants, and the few candidates that share a
//! variant are checked with the optimal-string-alignment distance (adjacent transpositions
//! count as one edit). The cost per word is a few hash lookups, whatever the catalogue size.

use std::hash::{Hash, Hasher};

use rustc_hash::{FxHashMap, FxHasher};

use super::lookalike::{self, LookalikeIndex};

/// Longest word considered.
pub const MAX_WORD: usize = 24;
/// Shortest term that may be misspelt: shorter names match exactly only.
pub const MIN_TERM: usize = 4;
/// Terms this long or shorter are short: many words are one edit from a four-letter name,
/// so a misspelling of one counts only beside other evidence.
pub const SHORT_TERM: usize = 4;

/// Edits allowed for a term of `len` bytes: one for short names, two for long ones.
pub fn max_edits(len: usize) -> u8 {
    match len {
        0..MIN_TERM => 0,
        MIN_TERM..=8 => 1,
        _ => 2,
    }
}

/// A term that may be found misspelt.
#[derive(Debug, Clone)]
pub struct FuzzyTerm {
    /// The normalised term, ASCII letters only.
    pub text: Box<[u8]>,
    pub max_edits: u8,
    /// What the term stands for in the engine.
    pub target: u32,
}

#[derive(Debug, Default)]
pub struct FuzzyIndex {
    keys: FxHashMap<u64, Vec<u32>>,
    terms: Vec<FuzzyTerm>,
    /// One bit per key hash (a one-hash Bloom filter, about 8 bits per key): most variants
    /// of ordinary words are turned away by this small table before the large map is
    /// touched.
    filter: Vec<u64>,
    /// The same terms by how they look (see `lookalike`).
    lookalikes: LookalikeIndex,
}

fn hash(bytes: &[u8]) -> u64 {
    let mut hasher = FxHasher::default();
    bytes.hash(&mut hasher);
    hasher.finish()
}

/// Calls `f` with every variant of `word` with up to `deletions` bytes deleted (the word
/// itself included), without allocating.
fn for_each_deletion(word: &[u8], deletions: u8, f: &mut impl FnMut(&[u8])) {
    let mut buf = [0u8; MAX_WORD];
    f(word);
    if deletions == 0 || word.len() <= 1 {
        return;
    }
    for i in 0..word.len() {
        // Deleting either of two equal neighbours gives the same variant.
        if i > 0 && word[i] == word[i - 1] {
            continue;
        }
        let len = word.len() - 1;
        buf[..i].copy_from_slice(&word[..i]);
        buf[i..len].copy_from_slice(&word[i + 1..]);
        if deletions >= 2 {
            let variant = buf;
            for_each_deletion(&variant[..len], deletions - 1, f);
        } else {
            f(&buf[..len]);
        }
    }
}

impl FuzzyIndex {
    /// Indexes a normalised term; terms that are not plain ASCII letters, too short or too
    /// long are skipped.
    pub fn insert(&mut self, text: &[u8], target: u32) {
        let edits = max_edits(text.len());
        if edits == 0 || text.len() > MAX_WORD || !text.iter().all(u8::is_ascii_lowercase) {
            return;
        }
        let id = self.terms.len() as u32;
        self.terms.push(FuzzyTerm {
            text: text.into(),
            max_edits: edits,
            target,
        });
        self.lookalikes.insert(text, id);
        let keys = &mut self.keys;
        for_each_deletion(text, edits, &mut |variant| {
            let ids = keys.entry(hash(variant)).or_default();
            if ids.last() != Some(&id) {
                ids.push(id);
            }
        });
    }

    pub fn keys(&self) -> usize {
        self.keys.len()
    }

    /// Builds the filter; call once all terms are in.
    pub fn seal(&mut self) {
        let bits = (self.keys.len() * 8).next_power_of_two().max(64);
        self.filter = vec![0u64; bits / 64];
        let mask = bits as u64 - 1;
        for &key in self.keys.keys() {
            let bit = key & mask;
            self.filter[(bit / 64) as usize] |= 1 << (bit % 64);
        }
    }

    fn maybe_contains(&self, key: u64) -> bool {
        if self.filter.is_empty() {
            return !self.keys.is_empty();
        }
        let bit = key & (self.filter.len() as u64 * 64 - 1);
        self.filter[(bit / 64) as usize] & (1 << (bit % 64)) != 0
    }

    /// Terms within their allowed edits of `word`, and within `limit` edits (but not equal
    /// to it), with the distance. `found` is cleared first; it is reused across calls.
    pub fn lookup(&self, word: &[u8], limit: u8, found: &mut Vec<(u32, u8)>) {
        found.clear();
        if limit == 0 || word.len() + 1 < MIN_TERM || word.len() > MAX_WORD {
            return;
        }
        // A word can be two edits from a long term only if it is long itself.
        let deletions = if word.len() >= 7 { limit.min(2) } else { 1 };
        let terms = &self.terms;
        let keys = &self.keys;
        for_each_deletion(word, deletions, &mut |variant| {
            let key = hash(variant);
            if !self.maybe_contains(key) {
                return;
            }
            let Some(ids) = keys.get(&key) else {
                return;
            };
            for &id in ids {
                if found.iter().any(|(seen, _)| *seen == id) {
                    continue;
                }
                let term = &terms[id as usize];
                let edits = term.max_edits.min(limit);
                if term.text.len().abs_diff(word.len()) > edits as usize {
                    continue;
                }
                let distance = osa_distance(word, &term.text, edits);
                if distance > 0 && distance <= edits {
                    found.push((id, distance));
                }
            }
        });
    }

    /// Terms that `word` writes in look-alike letters ("rn" for "m", "q" for "g").
    pub(crate) fn lookalikes<'a>(&'a self, word: &'a [u8]) -> impl Iterator<Item = u32> + 'a {
        self.lookalikes
            .candidates(word)
            .iter()
            .copied()
            .filter(move |&id| lookalike::read_as(word, &self.terms[id as usize].text).is_some())
    }

    pub fn term(&self, id: u32) -> &FuzzyTerm {
        &self.terms[id as usize]
    }
}

/// Optimal string alignment distance, giving up (returning `limit + 1`) beyond `limit`.
pub fn osa_distance(a: &[u8], b: &[u8], limit: u8) -> u8 {
    let (n, m) = (a.len(), b.len());
    if n.abs_diff(m) > limit as usize {
        return limit + 1;
    }
    // Three rows of the DP table; words are at most MAX_WORD long.
    let mut prev2 = [0u8; MAX_WORD + 1];
    let mut prev = [0u8; MAX_WORD + 1];
    let mut row = [0u8; MAX_WORD + 1];
    for (j, cell) in prev.iter_mut().enumerate().take(m + 1) {
        *cell = j as u8;
    }
    for i in 1..=n {
        row[0] = i as u8;
        let mut best = row[0];
        for j in 1..=m {
            let cost = u8::from(a[i - 1] != b[j - 1]);
            let mut value = (prev[j] + 1).min(row[j - 1] + 1).min(prev[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                value = value.min(prev2[j - 2] + 1);
            }
            row[j] = value;
            best = best.min(value);
        }
        if best > limit {
            return limit + 1;
        }
        prev2 = prev;
        prev = row;
    }
    prev[m]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances() {
        assert_eq!(osa_distance(b"adidas", b"adidsa", 2), 1);
        assert_eq!(osa_distance(b"adidas", b"adidas", 2), 0);
        assert_eq!(osa_distance(b"gucci", b"guci", 2), 1);
        assert_eq!(osa_distance(b"vuitton", b"vuiton", 2), 1);
        assert_eq!(osa_distance(b"balenciaga", b"baienciaga", 2), 1);
        assert_eq!(osa_distance(b"balenciaga", b"balencaiga", 2), 1);
        assert_eq!(osa_distance(b"balenciaga", b"baiencaga", 2), 2);
        assert_eq!(osa_distance(b"prada", b"xxxxx", 1), 2);
    }

    #[test]
    fn lookup_finds_bounded_misspellings_only() {
        let mut index = FuzzyIndex::default();
        index.insert(b"adidas", 1);
        index.insert(b"baienciaga", 2);
        index.insert(b"nike", 3); // short: one edit
        index.insert(b"mk", 5); // too short to misspell
        index.seal();
        let mut found = Vec::new();
        index.lookup(b"adidsa", 2, &mut found);
        assert_eq!(found, [(0, 1)]);
        index.lookup(b"adidas", 2, &mut found);
        assert!(found.is_empty(), "an exact match is not a misspelling");
        index.lookup(b"aidsa", 2, &mut found);
        assert!(found.is_empty(), "two edits are too many for a short name");
        index.lookup(b"baiencaga", 2, &mut found);
        assert_eq!(found, [(1, 1)]);
        index.lookup(b"baincaga", 2, &mut found);
        assert_eq!(found, [(1, 2)], "two edits for a long name");
        index.lookup(b"baincaga", 1, &mut found);
        assert!(found.is_empty(), "unless the caller allows one only");
        index.lookup(b"nikke", 2, &mut found);
        assert_eq!(found, [(2, 1)], "one edit for a four-letter name");
        index.lookup(b"nkie", 2, &mut found);
        assert_eq!(found, [(2, 1)]);
        index.lookup(b"nikkee", 2, &mut found);
        assert!(found.is_empty(), "but not two");
        index.lookup(b"mkk", 2, &mut found);
        assert!(found.is_empty(), "nor any for two letters");
        assert_eq!(index.term(0).target, 1);
    }
}
