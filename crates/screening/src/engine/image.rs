//! Images: 64-bit difference hashes, and an index of logo hashes searched by Hamming
//! distance.

use image::{ImageReader, Limits, imageops::FilterType};

/// Largest image accepted for hashing.
pub const MAX_IMAGE_BYTES: usize = 256 * 1024;
/// Largest image decoded, in pixels: a thumbnail is all a perceptual hash needs, and a
/// small file can claim a huge canvas (a decompression bomb).
pub const MAX_PIXELS: u64 = 4_000_000;
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
    let open = || {
        ImageReader::new(std::io::Cursor::new(bytes))
            .with_guessed_format()
            .map_err(|e| format!("cannot be read: {e}"))
    };
    // The header says how big the canvas is: refuse a bomb before decoding anything.
    let (width, height) = open()?
        .into_dimensions()
        .map_err(|e| format!("is not a PNG, JPEG, GIF or WebP image: {e}"))?;
    if u64::from(width) * u64::from(height) > MAX_PIXELS {
        return Err(format!(
            "is {width}x{height} pixels; at most {MAX_PIXELS} pixels are decoded (send a thumbnail or its perceptual_hash)"
        ));
    }
    let mut reader = open()?;
    let mut limits = Limits::default();
    limits.max_image_width = Some(8192);
    limits.max_image_height = Some(8192);
    limits.max_alloc = Some(32 * 1024 * 1024);
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
/// so probing each chunk and its 16 one-bit neighbours finds every candidate. Each chunk's
/// table is indexed directly by the 16-bit value (offsets into one array of logo ids), so a
/// probe is two array reads.
#[derive(Debug, Default)]
pub struct LogoIndex {
    logos: Vec<(u64, u32)>,
    /// Per chunk: 65,537 offsets into `ids`.
    offsets: [Vec<u32>; 4],
    ids: [Vec<u32>; 4],
}

fn chunk(hash: u64, i: usize) -> u16 {
    (hash >> (16 * i)) as u16
}

impl LogoIndex {
    /// Builds the index of `logos` (hash, target).
    pub fn new(logos: Vec<(u64, u32)>) -> Self {
        let mut offsets: [Vec<u32>; 4] = Default::default();
        let mut ids: [Vec<u32>; 4] = Default::default();
        for i in 0..4 {
            let mut counts = vec![0u32; 65_537];
            for (hash, _) in &logos {
                counts[usize::from(chunk(*hash, i)) + 1] += 1;
            }
            for k in 1..counts.len() {
                counts[k] += counts[k - 1];
            }
            let mut next = counts.clone();
            let mut table = vec![0u32; logos.len()];
            for (id, (hash, _)) in logos.iter().enumerate() {
                let slot = &mut next[usize::from(chunk(*hash, i))];
                table[*slot as usize] = id as u32;
                *slot += 1;
            }
            offsets[i] = counts;
            ids[i] = table;
        }
        Self {
            logos,
            offsets,
            ids,
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
        for i in 0..4 {
            let (offsets, ids) = (&self.offsets[i], &self.ids[i]);
            let key = chunk(hash, i);
            for probe in std::iter::once(key).chain((0..16).map(|bit| key ^ (1 << bit))) {
                let probe = usize::from(probe);
                for &id in &ids[offsets[probe] as usize..offsets[probe + 1] as usize] {
                    let (logo, target) = self.logos[id as usize];
                    let distance = (logo ^ hash).count_ones();
                    if distance <= MAX_DISTANCE {
                        found.push((logo, target, distance));
                    }
                }
            }
        }
        // A logo close in several chunks was found several times.
        found.sort_unstable_by_key(|&(logo, target, distance)| (distance, target, logo));
        found.dedup();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_index_finds_every_hash_within_seven_bits() {
        let logo = 0x8f3c_1e0f_0f1e_3c8f_u64;
        let index = LogoIndex::new(vec![(logo, 7), (!logo, 8)]);
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
        // A decompression bomb: 8000x8000 pixels in a few kilobytes, refused by its header.
        let bomb = {
            use image::ImageEncoder;
            use image::codecs::png::{CompressionType, FilterType, PngEncoder};
            let mut bytes = Vec::new();
            let blank = vec![0u8; 8000 * 8000];
            PngEncoder::new_with_quality(&mut bytes, CompressionType::Best, FilterType::NoFilter)
                .write_image(&blank, 8000, 8000, image::ExtendedColorType::L8)
                .unwrap();
            bytes
        };
        assert!(bomb.len() < MAX_IMAGE_BYTES, "{}", bomb.len());
        let refused = dhash(&bomb).unwrap_err();
        assert!(refused.contains("8000x8000"), "{refused}");
    }
}
