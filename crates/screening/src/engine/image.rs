//! Images: 64-bit difference hashes, and an index of logo hashes searched by Hamming
//! distance.

use image::{ImageReader, Limits, imageops::FilterType};
use rustc_hash::FxHashMap;

/// Largest image accepted for hashing.
pub const MAX_IMAGE_BYTES: usize = 256 * 1024;
/// Near-duplicates are at most this many bits apart.
pub const MAX_DISTANCE: u32 = 7;

/// The dHash of an encoded image (PNG, JPEG, GIF or WebP): the image shrunk to 9x8 grey
/// pixels, one bit per pair of horizontal neighbours (1 when the left one is brighter).
pub fn dhash(bytes: &[u8]) -> Result<u64, String> {
    if bytes.len() > MAX_IMAGE_BYTES {
        return Err(format!(
            "is {} bytes; at most {MAX_IMAGE_BYTES} are accepted (send its perceptual_hash instead)",
            bytes.len()
        ));
    }
    let mut reader = ImageReader::new(std::io::Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| format!("cannot be read: {e}"))?;
    let mut limits = Limits::default();
    limits.max_image_width = Some(8192);
    limits.max_image_height = Some(8192);
    limits.max_alloc = Some(64 * 1024 * 1024);
    reader.limits(limits);
    let image = reader
        .decode()
        .map_err(|e| format!("is not a PNG, JPEG, GIF or WebP image: {e}"))?;
    let small = image.resize_exact(9, 8, FilterType::Triangle).to_luma8();
    Ok(hash_of_grey(|x, y| small.get_pixel(x, y).0[0]))
}

/// The dHash of a 9x8 grey image given pixel by pixel.
pub fn hash_of_grey(pixel: impl Fn(u32, u32) -> u8) -> u64 {
    let mut hash = 0u64;
    for y in 0..8 {
        for x in 0..8 {
            hash <<= 1;
            if pixel(x, y) > pixel(x + 1, y) {
                hash |= 1;
            }
        }
    }
    hash
}

/// Logo hashes, found by Hamming distance through multi-index hashing: the 64 bits are cut
/// into four 16-bit chunks; two hashes within 7 bits agree on some chunk to within one bit,
/// so probing each chunk and its 16 one-bit neighbours finds every candidate.
#[derive(Debug, Default)]
pub struct LogoIndex {
    chunks: [FxHashMap<u16, Vec<u32>>; 4],
    logos: Vec<(u64, u32)>,
}

fn chunk(hash: u64, i: usize) -> u16 {
    (hash >> (16 * i)) as u16
}

impl LogoIndex {
    pub fn insert(&mut self, hash: u64, target: u32) {
        let id = self.logos.len() as u32;
        self.logos.push((hash, target));
        for (i, chunks) in self.chunks.iter_mut().enumerate() {
            chunks.entry(chunk(hash, i)).or_default().push(id);
        }
    }

    pub fn len(&self) -> usize {
        self.logos.len()
    }

    pub fn is_empty(&self) -> bool {
        self.logos.is_empty()
    }

    /// Logos within [`MAX_DISTANCE`] bits of `hash`: (logo hash, target, distance), closest
    /// first. `found` is cleared first.
    pub fn near(&self, hash: u64, found: &mut Vec<(u64, u32, u32)>) {
        found.clear();
        if self.logos.is_empty() {
            return;
        }
        let mut seen: Vec<u32> = Vec::new();
        for (i, chunks) in self.chunks.iter().enumerate() {
            let key = chunk(hash, i);
            for probe in std::iter::once(key).chain((0..16).map(|bit| key ^ (1 << bit))) {
                let Some(ids) = chunks.get(&probe) else {
                    continue;
                };
                for &id in ids {
                    if seen.contains(&id) {
                        continue;
                    }
                    seen.push(id);
                    let (logo, target) = self.logos[id as usize];
                    let distance = (logo ^ hash).count_ones();
                    if distance <= MAX_DISTANCE {
                        found.push((logo, target, distance));
                    }
                }
            }
        }
        found.sort_by_key(|&(logo, target, distance)| (distance, target, logo));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_index_finds_every_hash_within_seven_bits() {
        let mut index = LogoIndex::default();
        let logo = 0x8f3c_1e0f_0f1e_3c8f_u64;
        index.insert(logo, 7);
        index.insert(!logo, 8);
        let mut found = Vec::new();
        // Flip bits spread over all four chunks.
        let mut probe = logo;
        for (n, bit) in [0, 17, 34, 51, 5, 22, 40].into_iter().enumerate() {
            probe ^= 1 << bit;
            index.near(probe, &mut found);
            assert_eq!(found, [(logo, 7, n as u32 + 1)], "{} bits apart", n + 1);
        }
        probe ^= 1 << 60;
        index.near(probe, &mut found);
        assert!(found.is_empty(), "8 bits apart is too far");
    }

    #[test]
    fn images_hash_by_their_gradients() {
        let mut png = Vec::new();
        let gradient = image::GrayImage::from_fn(90, 80, |x, _| image::Luma([255 - (x * 2) as u8]));
        image::DynamicImage::ImageLuma8(gradient)
            .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
            .unwrap();
        assert_eq!(
            dhash(&png).unwrap(),
            u64::MAX,
            "brighter on the left everywhere"
        );
        assert!(dhash(b"not an image").is_err());
        assert!(dhash(&vec![0u8; MAX_IMAGE_BYTES + 1]).is_err());
    }
}
