//! The text normaliser, on any string a seller could write: no panic, every normalised byte
//! points back at a character boundary of the input, and normalising a term twice changes
//! nothing.
#![no_main]

use assay_screening::engine::normalize::{Normalized, normalize, normalize_term};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    let mut out = Normalized::default();
    normalize(text, &mut out);
    assert_eq!(out.text.len(), out.origins().count());
    for origin in out.origins() {
        assert!(
            origin < text.len().max(1),
            "origin {origin} of {}",
            text.len()
        );
        assert!(
            text.is_char_boundary(origin),
            "origin {origin} inside a character"
        );
    }
    let once = normalize_term(text);
    assert_eq!(normalize_term(&once), once, "normalising {text:?} twice");
});
