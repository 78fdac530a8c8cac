//! Cheap media probing for Threads' media rules.
//!
//! A repository may hold gigabyte-sized videos and thousands of posts are
//! validated at once, so nothing here reads a whole file:
//!
//! * the format is sniffed from the first 16 bytes (bytes win over the file
//!   extension, which may lie);
//! * image dimensions come from `imagesize` running on a reader capped at
//!   [`IMAGE_PREFIX_LIMIT`] bytes, behind a small buffer, so typically only a
//!   few KiB are read;
//! * MP4/MOV durations come from the `mvhd` box, found by seeking from box
//!   header to box header, so `mdat` payloads are never read.
//!
//! Malformed, truncated or hostile input never panics or loops: it yields
//! `MediaFormat::Unknown`, `dimensions: None` or `duration_secs: None`. Only
//! genuine I/O failures are returned as errors.

use std::fmt;
use std::fs::File;
use std::io::{self, BufReader, Read, Seek, SeekFrom};
use std::path::Path;

use image::metadata::Orientation;

/// Images whose dimensions are not found within this prefix get `None`
/// (headers sit in the first few KiB of any sane JPEG/PNG/GIF/WebP/HEIF).
pub const IMAGE_PREFIX_LIMIT: u64 = 256 * 1024;

/// Upper bound on ISO-BMFF boxes visited per file; keeps hostile files
/// made of millions of tiny boxes cheap.
pub const MAX_BOXES: u32 = 10_000;

/// Bytes needed to sniff every supported format.
const SNIFF_LEN: usize = 16;

/// Buffer for `imagesize`: small because it seeks between JPEG segments and
/// `BufReader` discards its buffer on every seek.
const IMAGE_BUF_CAPACITY: usize = 8 * 1024;

/// Container/codec family of a media file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaFormat {
    Jpeg,
    Png,
    Gif,
    Webp,
    Heif,
    Mp4,
    Mov,
    Unknown,
}

impl MediaFormat {
    /// The MIME type (as platforms list the types they take).
    pub fn mime(self) -> Option<&'static str> {
        Some(match self {
            Self::Jpeg => "image/jpeg",
            Self::Png => "image/png",
            Self::Gif => "image/gif",
            Self::Webp => "image/webp",
            Self::Heif => "image/heic",
            Self::Mp4 => "video/mp4",
            Self::Mov => "video/quicktime",
            Self::Unknown => return None,
        })
    }

    /// True for still-image formats (whether or not Threads accepts them).
    pub fn is_image(self) -> bool {
        matches!(self, Self::Jpeg | Self::Png | Self::Gif | Self::Webp | Self::Heif)
    }

    /// True for video container formats.
    pub fn is_video(self) -> bool {
        matches!(self, Self::Mp4 | Self::Mov)
    }

    /// Human-readable name for diagnostics.
    pub fn name(self) -> &'static str {
        match self {
            Self::Jpeg => "JPEG",
            Self::Png => "PNG",
            Self::Gif => "GIF",
            Self::Webp => "WebP",
            Self::Heif => "HEIF",
            Self::Mp4 => "MP4",
            Self::Mov => "MOV",
            Self::Unknown => "unknown",
        }
    }
}

impl fmt::Display for MediaFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What a probe learned about a media file.
#[derive(Debug, Clone, PartialEq)]
pub struct MediaInfo {
    pub format: MediaFormat,
    pub size_bytes: u64,
    /// (width, height) for images when the header is readable.
    pub dimensions: Option<(u32, u32)>,
    /// Duration in seconds for MP4/MOV when the `mvhd` box is readable.
    pub duration_secs: Option<f64>,
}

/// Probes a file on disk; the size comes from its metadata.
///
/// Reads only what it needs: the first bytes (sniffing; image headers via
/// `imagesize` on a prefix bounded by [`IMAGE_PREFIX_LIMIT`]) and, for
/// MP4/MOV, the box headers found by seeking (never reading `mdat`).
pub fn probe_file(path: &Path) -> io::Result<MediaInfo> {
    let file = File::open(path)?;
    let meta = file.metadata()?;
    // A directory opens fine on Unix but cannot be media; say so clearly.
    if !meta.is_file() {
        return Err(io::Error::new(io::ErrorKind::InvalidInput, format!("{} is not a regular file", path.display())));
    }
    probe_reader(file, meta.len())
}

/// Probes any seekable source whose total length is `size_bytes`.
///
/// Truncated or garbage data gives `Ok` with `MediaFormat::Unknown` or
/// `None` fields; only I/O errors from `reader` are returned as `Err`.
pub fn probe_reader<R: Read + Seek>(mut reader: R, size_bytes: u64) -> io::Result<MediaInfo> {
    reader.seek(SeekFrom::Start(0))?;
    let mut head = [0u8; SNIFF_LEN];
    let n = read_up_to(&mut reader, &mut head)?;
    let format = sniff(&head[..n]);

    let mut dimensions = if format.is_image() { image_dimensions(&mut reader, size_bytes)? } else { None };
    // A phone's portrait photo is stored landscape with an EXIF orientation: shown turned.
    if format == MediaFormat::Jpeg && jpeg_orientation(&mut reader, size_bytes)?.is_some_and(swaps_sides) {
        dimensions = dimensions.map(|(w, h)| (h, w));
    }
    let duration_secs = if format.is_video() { mp4_duration(&mut reader, size_bytes)? } else { None };

    Ok(MediaInfo { format, size_bytes, dimensions, duration_secs })
}

/// Guesses the format from an extension only, for remote `url:` media that
/// cannot be read. Case-insensitive; `?query` and `#fragment` are ignored.
pub fn format_from_extension(path_or_url: &str) -> MediaFormat {
    let without_fragment = path_or_url.split('#').next().unwrap_or("");
    let without_query = without_fragment.split('?').next().unwrap_or("");
    // Only the last path segment may carry the extension ("a.mp4/b" has none).
    let file_name = without_query.rsplit(['/', '\\']).next().unwrap_or("");
    let Some((_, ext)) = file_name.rsplit_once('.') else {
        return MediaFormat::Unknown;
    };
    const TABLE: &[(&str, MediaFormat)] = &[
        ("jpg", MediaFormat::Jpeg),
        ("jpeg", MediaFormat::Jpeg),
        ("png", MediaFormat::Png),
        ("gif", MediaFormat::Gif),
        ("webp", MediaFormat::Webp),
        ("heic", MediaFormat::Heif),
        ("heif", MediaFormat::Heif),
        ("mp4", MediaFormat::Mp4),
        ("m4v", MediaFormat::Mp4),
        ("mov", MediaFormat::Mov),
    ];
    TABLE.iter().find(|(e, _)| e.eq_ignore_ascii_case(ext)).map_or(MediaFormat::Unknown, |&(_, f)| f)
}

/// Identifies the format from the first bytes of a file.
fn sniff(head: &[u8]) -> MediaFormat {
    const PNG_SIG: &[u8] = b"\x89PNG\r\n\x1a\n";
    // HEIF/AVIF image brands: still images in an ISO-BMFF container, which
    // must not be mistaken for MP4 video.
    const HEIF_BRANDS: &[&[u8; 4]] = &[
        b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm", b"hevs", b"heif", b"mif1", b"mif2", b"msf1",
        b"miaf", b"avif", b"avis", b"avio",
    ];
    // Classic QuickTime files may start without `ftyp`, directly with one of
    // these atoms.
    const QT_LEGACY_ATOMS: &[&[u8; 4]] = &[b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot"];

    if head.starts_with(b"\xFF\xD8\xFF") {
        return MediaFormat::Jpeg;
    }
    if head.starts_with(PNG_SIG) {
        return MediaFormat::Png;
    }
    if head.starts_with(b"GIF87a") || head.starts_with(b"GIF89a") {
        return MediaFormat::Gif;
    }
    if head.len() < 12 {
        return MediaFormat::Unknown;
    }
    if &head[0..4] == b"RIFF" && &head[8..12] == b"WEBP" {
        return MediaFormat::Webp;
    }
    let tag = &head[4..8];
    if tag == b"ftyp" {
        let brand = &head[8..12];
        return if brand == b"qt  " {
            MediaFormat::Mov
        } else if HEIF_BRANDS.iter().any(|b| b.as_slice() == brand) {
            MediaFormat::Heif
        } else {
            MediaFormat::Mp4
        };
    }
    let size = u32::from_be_bytes([head[0], head[1], head[2], head[3]]);
    // size 0 ("to end") and 1 (64-bit) are valid; 2..7 cannot be a box.
    let plausible_size = size <= 1 || size >= 8;
    if plausible_size && QT_LEGACY_ATOMS.iter().any(|a| a.as_slice() == tag) {
        return MediaFormat::Mov;
    }
    MediaFormat::Unknown
}

/// Width/height from the image header, reading at most
/// [`IMAGE_PREFIX_LIMIT`] bytes. Unreadable or zero dimensions give `None`
/// (zero would only make callers divide by zero in aspect-ratio checks).
fn image_dimensions<R: Read + Seek>(reader: &mut R, size_bytes: u64) -> io::Result<Option<(u32, u32)>> {
    reader.seek(SeekFrom::Start(0))?;
    let bounded = Bounded { inner: reader, pos: 0, limit: size_bytes.min(IMAGE_PREFIX_LIMIT) };
    let buffered = BufReader::with_capacity(IMAGE_BUF_CAPACITY, bounded);
    let size = match imagesize::reader_size(buffered) {
        Ok(size) => size,
        // Past the cap or a short file reads as EOF: a header problem, not I/O.
        Err(imagesize::ImageError::IoError(e)) if !is_data_error(&e) => return Err(e),
        Err(_) => return Ok(None),
    };
    let dims = u32::try_from(size.width).ok().zip(u32::try_from(size.height).ok());
    Ok(dims.filter(|&(w, h)| w > 0 && h > 0))
}

/// The EXIF orientation of a JPEG image in memory (see [`jpeg_orientation`]).
pub fn exif_orientation(bytes: &[u8]) -> Option<Orientation> {
    let jpeg = bytes.starts_with(&[0xFF, 0xD8]);
    jpeg.then(|| jpeg_orientation(&mut io::Cursor::new(bytes), bytes.len() as u64).ok().flatten()).flatten()
}

/// Whether showing an image with `o` turns it a quarter (EXIF orientations 5–8): its
/// width and height as shown are its stored height and width.
pub fn swaps_sides(o: Orientation) -> bool {
    matches!(
        o,
        Orientation::Rotate90 | Orientation::Rotate270 | Orientation::Rotate90FlipH | Orientation::Rotate270FlipH
    )
}

/// The orientation in a JPEG's EXIF segment (APP1 `Exif`), found by walking the segment
/// headers up to the image data (seeking over the rest). `None` without one.
fn jpeg_orientation<R: Read + Seek>(reader: &mut R, size_bytes: u64) -> io::Result<Option<Orientation>> {
    let mut pos = 2u64;
    // Real files have a handful of segments before the image data; a bound keeps garbage cheap.
    for _ in 0..64 {
        if pos + 4 > size_bytes {
            break;
        }
        reader.seek(SeekFrom::Start(pos))?;
        let mut head = [0u8; 4];
        if read_up_to(reader, &mut head)? < 4 || head[0] != 0xFF || matches!(head[1], 0xDA | 0xD9) {
            break;
        }
        let len = u64::from(u16::from_be_bytes([head[2], head[3]]));
        if len < 2 {
            break;
        }
        if head[1] == 0xE1 {
            let mut payload = vec![0u8; (len - 2).min(size_bytes - pos - 4) as usize];
            let n = read_up_to(reader, &mut payload)?;
            if let Some(o) = payload[..n].strip_prefix(b"Exif\0\0").and_then(Orientation::from_exif_chunk) {
                return Ok(Some(o));
            }
        }
        pos += 2 + len;
    }
    Ok(None)
}

/// `jpeg` with an EXIF segment holding only `orientation`, right after its start marker.
#[cfg(test)]
pub(crate) fn with_exif_orientation(jpeg: &[u8], orientation: u16) -> Vec<u8> {
    // Big-endian TIFF header, IFD0 at 8 with one SHORT entry (0x0112), no next IFD.
    let mut tiff = b"MM\0*\0\0\0\x08\0\x01\x01\x12\0\x03\0\0\0\x01".to_vec();
    tiff.extend_from_slice(&orientation.to_be_bytes());
    tiff.extend_from_slice(&[0, 0, 0, 0, 0, 0]);
    let len = (2 + 6 + tiff.len()) as u16;
    let mut out = jpeg[..2].to_vec();
    out.extend_from_slice(&[0xFF, 0xE1]);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(b"Exif\0\0");
    out.extend_from_slice(&tiff);
    out.extend_from_slice(&jpeg[2..]);
    out
}

/// Errors that mean "the bytes are bad", as opposed to "the disk is bad".
fn is_data_error(e: &io::Error) -> bool {
    matches!(e.kind(), io::ErrorKind::UnexpectedEof | io::ErrorKind::InvalidData | io::ErrorKind::InvalidInput)
}

/// A view of the first `limit` bytes of a reader, so a parser fed hostile
/// lengths can never wander through a gigabyte file.
struct Bounded<R> {
    inner: R,
    pos: u64,
    limit: u64,
}

impl<R: Read + Seek> Read for Bounded<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let remaining = self.limit.saturating_sub(self.pos);
        let max = usize::try_from(remaining).unwrap_or(usize::MAX).min(buf.len());
        if max == 0 {
            return Ok(0);
        }
        let n = self.inner.read(&mut buf[..max])?;
        self.pos += n as u64;
        Ok(n)
    }
}

impl<R: Read + Seek> Seek for Bounded<R> {
    fn seek(&mut self, target: SeekFrom) -> io::Result<u64> {
        let new = match target {
            SeekFrom::Start(n) => Some(n),
            SeekFrom::Current(d) => self.pos.checked_add_signed(d),
            SeekFrom::End(d) => self.limit.checked_add_signed(d),
        }
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "seek out of range"))?;
        // Past the cap reads return 0 without touching `inner`; the next
        // in-range seek repositions it.
        if new < self.limit {
            self.inner.seek(SeekFrom::Start(new))?;
        }
        self.pos = new;
        Ok(new)
    }
}

/// Reads until `buf` is full or EOF; a short count means truncated input,
/// which callers treat as data rather than as an error.
fn read_up_to<R: Read>(reader: &mut R, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match reader.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

/// Location of an ISO-BMFF box's payload.
#[derive(Debug, Clone, Copy)]
struct BoxSpan {
    payload_start: u64,
    /// Clamped to the parent's end.
    end: u64,
}

/// Walks the children of `[start, parent_end)` by seeking from header to
/// header and returns the first box of type `kind`. Stops (returns `None`)
/// on malformed sizes, truncation or an exhausted `budget`.
fn find_box<R: Read + Seek>(
    reader: &mut R,
    start: u64,
    parent_end: u64,
    kind: &[u8; 4],
    budget: &mut u32,
) -> io::Result<Option<BoxSpan>> {
    let mut pos = start;
    while *budget > 0 {
        *budget -= 1;
        let avail = parent_end.saturating_sub(pos);
        if avail < 8 {
            return Ok(None);
        }
        reader.seek(SeekFrom::Start(pos))?;
        let mut header = [0u8; 16];
        if read_up_to(reader, &mut header[..8])? < 8 {
            return Ok(None);
        }
        let size32 = u32::from_be_bytes([header[0], header[1], header[2], header[3]]);
        let (size, header_len) = match size32 {
            // Box runs to the end of its parent (only legal for the last box).
            0 => (avail, 8),
            1 => {
                if avail < 16 || read_up_to(reader, &mut header[8..16])? < 8 {
                    return Ok(None);
                }
                let mut large = [0u8; 8];
                large.copy_from_slice(&header[8..16]);
                (u64::from_be_bytes(large), 16)
            }
            n => (u64::from(n), 8),
        };
        if size < header_len {
            // Sizes below the header length would never advance.
            return Ok(None);
        }
        let declared_end = pos.checked_add(size);
        let end = declared_end.map_or(parent_end, |e| e.min(parent_end));
        if &header[4..8] == kind {
            return Ok(Some(BoxSpan { payload_start: pos + header_len, end }));
        }
        if end >= parent_end {
            // Last box, or one overrunning its parent: nothing follows.
            return Ok(None);
        }
        pos = end;
    }
    Ok(None)
}

/// Reads up to `N` bytes of a box payload; returns how many were available.
fn read_payload<R: Read + Seek, const N: usize>(reader: &mut R, span: BoxSpan) -> io::Result<([u8; N], usize)> {
    let mut buf = [0u8; N];
    let avail = span.end.saturating_sub(span.payload_start);
    let want = usize::try_from(avail).unwrap_or(N).min(N);
    reader.seek(SeekFrom::Start(span.payload_start))?;
    let n = read_up_to(reader, &mut buf[..want])?;
    Ok((buf, n))
}

fn be_u32(b: &[u8]) -> u32 {
    let mut a = [0u8; 4];
    a.copy_from_slice(&b[..4]);
    u32::from_be_bytes(a)
}

fn be_u64(b: &[u8]) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[..8]);
    u64::from_be_bytes(a)
}

/// Duration of an MP4/MOV from `moov/mvhd`, falling back to
/// `moov/mvex/mehd` for fragmented files whose `mvhd` duration is 0.
fn mp4_duration<R: Read + Seek>(reader: &mut R, size_bytes: u64) -> io::Result<Option<f64>> {
    let mut budget = MAX_BOXES;
    let Some(moov) = find_box(reader, 0, size_bytes, b"moov", &mut budget)? else {
        return Ok(None);
    };
    let Some(mvhd) = find_box(reader, moov.payload_start, moov.end, b"mvhd", &mut budget)? else {
        return Ok(None);
    };
    // version(1) flags(3), then v0: ctime modtime timescale duration (u32 each)
    // or v1: ctime(u64) modtime(u64) timescale(u32) duration(u64).
    let (buf, n) = read_payload::<_, 32>(reader, mvhd)?;
    let (timescale, duration) = match (buf[0], n) {
        (0, 20..) => {
            let d = be_u32(&buf[16..]);
            // All-ones means "unknown" in both versions.
            let d = if d == u32::MAX { None } else { Some(u64::from(d)) };
            (be_u32(&buf[12..]), d)
        }
        (1, 32..) => {
            let d = be_u64(&buf[24..]);
            (be_u32(&buf[20..]), (d != u64::MAX).then_some(d))
        }
        _ => return Ok(None),
    };
    if timescale == 0 {
        return Ok(None);
    }
    let duration = match duration {
        Some(0) => fragment_duration(reader, moov, &mut budget)?,
        other => other,
    };
    Ok(duration.filter(|&d| d > 0).map(|d| d as f64 / f64::from(timescale)))
}

/// `mvex/mehd` fragment duration (in the `mvhd` timescale), if present.
fn fragment_duration<R: Read + Seek>(reader: &mut R, moov: BoxSpan, budget: &mut u32) -> io::Result<Option<u64>> {
    let Some(mvex) = find_box(reader, moov.payload_start, moov.end, b"mvex", budget)? else {
        return Ok(None);
    };
    let Some(mehd) = find_box(reader, mvex.payload_start, mvex.end, b"mehd", budget)? else {
        return Ok(None);
    };
    let (buf, n) = read_payload::<_, 12>(reader, mehd)?;
    Ok(match (buf[0], n) {
        (0, 8..) => Some(u64::from(be_u32(&buf[4..]))),
        (1, 12..) => Some(be_u64(&buf[4..])),
        _ => None,
    })
}

/// A PNG of `w` × `h` pixels as far as the probe reads it (signature and IHDR), for
/// tests that need media bytes in memory.
#[cfg(test)]
pub(crate) fn test_png(w: u32, h: u32) -> Vec<u8> {
    let mut v = b"\x89PNG\r\n\x1a\n".to_vec();
    v.extend_from_slice(&13u32.to_be_bytes());
    v.extend_from_slice(b"IHDR");
    v.extend_from_slice(&w.to_be_bytes());
    v.extend_from_slice(&h.to_be_bytes());
    v.extend_from_slice(&[8, 6, 0, 0, 0]);
    v.extend_from_slice(&[0, 0, 0, 0]); // CRC: not checked by the probe
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Cursor, Write};

    // ---------- builders for tiny in-memory files ----------

    use super::test_png as png;

    fn jpeg(w: u16, h: u16) -> Vec<u8> {
        let mut v = vec![0xFF, 0xD8];
        // APP0 / JFIF, 16 bytes of segment.
        v.extend_from_slice(&[0xFF, 0xE0, 0x00, 0x10]);
        v.extend_from_slice(b"JFIF\0");
        v.extend_from_slice(&[1, 1, 0, 0, 1, 0, 1, 0, 0]);
        // SOF0: length 17, precision 8, height, width, 3 components.
        v.extend_from_slice(&[0xFF, 0xC0, 0x00, 0x11, 0x08]);
        v.extend_from_slice(&h.to_be_bytes());
        v.extend_from_slice(&w.to_be_bytes());
        v.extend_from_slice(&[3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1]);
        v.extend_from_slice(&[0xFF, 0xD9]);
        v
    }

    fn gif(w: u16, h: u16) -> Vec<u8> {
        let mut v = b"GIF89a".to_vec();
        v.extend_from_slice(&w.to_le_bytes());
        v.extend_from_slice(&h.to_le_bytes());
        v.extend_from_slice(&[0, 0, 0, 0x3B]);
        v
    }

    fn riff_webp(chunk: &[u8; 4], payload: &[u8]) -> Vec<u8> {
        let mut body = b"WEBP".to_vec();
        body.extend_from_slice(chunk);
        body.extend_from_slice(&(payload.len() as u32).to_le_bytes());
        body.extend_from_slice(payload);
        let mut v = b"RIFF".to_vec();
        v.extend_from_slice(&(body.len() as u32).to_le_bytes());
        v.extend_from_slice(&body);
        v
    }

    fn webp_vp8x(w: u32, h: u32) -> Vec<u8> {
        let mut p = vec![0u8; 4]; // flags + reserved
        p.extend_from_slice(&(w - 1).to_le_bytes()[..3]);
        p.extend_from_slice(&(h - 1).to_le_bytes()[..3]);
        riff_webp(b"VP8X", &p)
    }

    fn webp_vp8l(w: u32, h: u32) -> Vec<u8> {
        let bits = (w - 1) | ((h - 1) << 14);
        let mut p = vec![0x2F];
        p.extend_from_slice(&bits.to_le_bytes());
        riff_webp(b"VP8L", &p)
    }

    fn bx(kind: &[u8; 4], payload: &[u8]) -> Vec<u8> {
        let mut v = ((payload.len() + 8) as u32).to_be_bytes().to_vec();
        v.extend_from_slice(kind);
        v.extend_from_slice(payload);
        v
    }

    /// Box with a 64-bit `largesize` header.
    fn bx64(kind: &[u8; 4], payload: &[u8]) -> Vec<u8> {
        let mut v = 1u32.to_be_bytes().to_vec();
        v.extend_from_slice(kind);
        v.extend_from_slice(&((payload.len() + 16) as u64).to_be_bytes());
        v.extend_from_slice(payload);
        v
    }

    /// Box whose size field is 0 ("extends to end of file").
    fn bx0(kind: &[u8; 4], payload: &[u8]) -> Vec<u8> {
        let mut v = 0u32.to_be_bytes().to_vec();
        v.extend_from_slice(kind);
        v.extend_from_slice(payload);
        v
    }

    fn ftyp(brand: &[u8; 4]) -> Vec<u8> {
        let mut p = brand.to_vec();
        p.extend_from_slice(&0u32.to_be_bytes());
        p.extend_from_slice(brand);
        p.extend_from_slice(b"isom");
        bx(b"ftyp", &p)
    }

    fn mvhd_v0(timescale: u32, duration: u32) -> Vec<u8> {
        let mut p = vec![0, 0, 0, 0]; // version 0, flags
        p.extend_from_slice(&[0; 8]); // creation, modification
        p.extend_from_slice(&timescale.to_be_bytes());
        p.extend_from_slice(&duration.to_be_bytes());
        p.extend_from_slice(&[0; 80]); // rate, volume, matrix, ... (ignored)
        bx(b"mvhd", &p)
    }

    fn mvhd_v1(timescale: u32, duration: u64) -> Vec<u8> {
        let mut p = vec![1, 0, 0, 0];
        p.extend_from_slice(&[0; 16]);
        p.extend_from_slice(&timescale.to_be_bytes());
        p.extend_from_slice(&duration.to_be_bytes());
        p.extend_from_slice(&[0; 80]);
        bx(b"mvhd", &p)
    }

    fn mehd_v1(duration: u64) -> Vec<u8> {
        let mut p = vec![1, 0, 0, 0];
        p.extend_from_slice(&duration.to_be_bytes());
        bx(b"mehd", &p)
    }

    fn cat(parts: &[Vec<u8>]) -> Vec<u8> {
        parts.concat()
    }

    fn mp4(brand: &[u8; 4], mvhd: Vec<u8>) -> Vec<u8> {
        cat(&[ftyp(brand), bx(b"moov", &cat(&[mvhd, bx(b"trak", &[0; 16])])), bx(b"mdat", &[0xAB; 64])])
    }

    fn probe(bytes: &[u8]) -> MediaInfo {
        probe_reader(Cursor::new(bytes), bytes.len() as u64).expect("in-memory probe never fails")
    }

    // ---------- table-driven probing ----------

    struct Case {
        name: &'static str,
        bytes: Vec<u8>,
        format: MediaFormat,
        dims: Option<(u32, u32)>,
        duration: Option<f64>,
    }

    fn case(
        name: &'static str,
        bytes: Vec<u8>,
        format: MediaFormat,
        dims: Option<(u32, u32)>,
        duration: Option<f64>,
    ) -> Case {
        Case { name, bytes, format, dims, duration }
    }

    #[test]
    fn probes_in_memory_files() {
        use MediaFormat::*;
        let mut truncated_mvhd = mp4(b"isom", mvhd_v0(1000, 5000));
        let mvhd_at = truncated_mvhd.windows(4).position(|w| w == b"mvhd").unwrap();
        truncated_mvhd.truncate(mvhd_at + 4 + 10);
        let many_tiny_boxes = cat(&[
            ftyp(b"isom"),
            (0..(MAX_BOXES + 10)).flat_map(|_| bx(b"free", &[])).collect(),
            bx(b"moov", &mvhd_v0(1, 5)),
        ]);
        let mut huge_jpeg_app = vec![0xFF, 0xD8];
        // Several maximal APP segments push SOF0 past the prefix cap.
        for _ in 0..8 {
            huge_jpeg_app.extend_from_slice(&[0xFF, 0xE1, 0xFF, 0xFF]);
            huge_jpeg_app.extend_from_slice(&[0u8; 0xFFFD]);
        }
        huge_jpeg_app.extend_from_slice(&jpeg(10, 10)[2..]);

        let cases = vec![
            case("png", png(1080, 1350), Png, Some((1080, 1350)), None),
            case("jpeg", jpeg(4000, 3000), Jpeg, Some((4000, 3000)), None),
            case("gif", gif(320, 240), Gif, Some((320, 240)), None),
            case("webp vp8x", webp_vp8x(1920, 1080), Webp, Some((1920, 1080)), None),
            case("webp vp8l", webp_vp8l(640, 480), Webp, Some((640, 480)), None),
            case("png zero width", png(0, 10), Png, None, None),
            case("png truncated ihdr", png(10, 10)[..18].to_vec(), Png, None, None),
            case("jpeg sof past cap", huge_jpeg_app, Jpeg, None, None),
            case("heic brand", ftyp(b"heic"), Heif, None, None),
            case("avif brand", ftyp(b"avif"), Heif, None, None),
            case("mp4 isom mvhd v0", mp4(b"isom", mvhd_v0(1000, 12_500)), Mp4, None, Some(12.5)),
            case("mp4 mp42", mp4(b"mp42", mvhd_v0(600, 600)), Mp4, None, Some(1.0)),
            case("m4v brand", mp4(b"M4V ", mvhd_v0(30, 90)), Mp4, None, Some(3.0)),
            case("mov qt", mp4(b"qt  ", mvhd_v0(600, 180_000)), Mov, None, Some(300.0)),
            case("mvhd v1 64-bit duration", mp4(b"isom", mvhd_v1(90_000, 27_000_000_000)), Mp4, None, Some(300_000.0)),
            case("timescale zero", mp4(b"isom", mvhd_v0(0, 100)), Mp4, None, None),
            case("duration unknown", mp4(b"isom", mvhd_v0(10, u32::MAX)), Mp4, None, None),
            case("truncated mvhd", truncated_mvhd, Mp4, None, None),
            case(
                "moov after mdat",
                cat(&[ftyp(b"isom"), bx(b"mdat", &[7; 100]), bx(b"moov", &mvhd_v0(10, 25))]),
                Mp4,
                None,
                Some(2.5),
            ),
            case(
                "64-bit largesize boxes",
                cat(&[ftyp(b"isom"), bx64(b"mdat", &[1; 40]), bx64(b"moov", &mvhd_v0(4, 2))]),
                Mp4,
                None,
                Some(0.5),
            ),
            case(
                "size 0 moov to end",
                cat(&[ftyp(b"isom"), bx(b"free", &[0; 4]), bx0(b"moov", &mvhd_v0(2, 7))]),
                Mp4,
                None,
                Some(3.5),
            ),
            case("size 0 mdat last, no moov", cat(&[ftyp(b"isom"), bx0(b"mdat", &[0; 64])]), Mp4, None, None),
            case(
                "box size below header",
                cat(&[ftyp(b"isom"), vec![0, 0, 0, 4], b"free".to_vec(), bx(b"moov", &mvhd_v0(1, 1))]),
                Mp4,
                None,
                None,
            ),
            case(
                "largesize below header",
                cat(&[
                    ftyp(b"isom"),
                    vec![0, 0, 0, 1],
                    b"mdat".to_vec(),
                    8u64.to_be_bytes().to_vec(),
                    bx(b"moov", &mvhd_v0(1, 1)),
                ]),
                Mp4,
                None,
                None,
            ),
            case(
                "box overruns file",
                cat(&[ftyp(b"isom"), u32::MAX.to_be_bytes().to_vec(), b"mdat".to_vec(), bx(b"moov", &mvhd_v0(1, 1))]),
                Mp4,
                None,
                None,
            ),
            case(
                "moov truncated but mvhd intact",
                {
                    let mut v = cat(&[ftyp(b"isom"), bx(b"moov", &cat(&[mvhd_v0(5, 10), vec![0; 500]]))]);
                    v.truncate(v.len() - 400);
                    v
                },
                Mp4,
                None,
                Some(2.0),
            ),
            case("box budget exhausted", many_tiny_boxes, Mp4, None, None),
            case(
                "fragmented: mehd fallback",
                cat(&[ftyp(b"iso6"), bx(b"moov", &cat(&[mvhd_v0(1000, 0), bx(b"mvex", &mehd_v1(61_000))]))]),
                Mp4,
                None,
                Some(61.0),
            ),
            case("fragmented: no mehd", cat(&[ftyp(b"dash"), bx(b"moov", &mvhd_v0(1000, 0))]), Mp4, None, None),
            case(
                "legacy quicktime without ftyp",
                cat(&[bx(b"wide", &[]), bx(b"mdat", &[0; 8]), bx(b"moov", &mvhd_v0(600, 1200))]),
                Mov,
                None,
                Some(2.0),
            ),
            case("garbage", b"this is definitely not media!".to_vec(), Unknown, None, None),
            case("empty", Vec::new(), Unknown, None, None),
            case("ftyp header only", b"\0\0\0\x14ftypis".to_vec(), Unknown, None, None),
            case(
                "mvhd bad version",
                mp4(b"isom", {
                    let mut m = mvhd_v0(1, 1);
                    m[8] = 7;
                    m
                }),
                Mp4,
                None,
                None,
            ),
        ];

        for c in cases {
            let info = probe(&c.bytes);
            assert_eq!(info.format, c.format, "{}: format", c.name);
            assert_eq!(info.dimensions, c.dims, "{}: dimensions", c.name);
            assert_eq!(info.duration_secs, c.duration, "{}: duration", c.name);
            assert_eq!(info.size_bytes, c.bytes.len() as u64, "{}: size", c.name);
        }
    }

    #[test]
    fn never_panics_on_prefixes_or_mutations() {
        let samples = [
            png(3, 4),
            jpeg(5, 6),
            gif(7, 8),
            webp_vp8x(9, 10),
            mp4(b"isom", mvhd_v1(10, 20)),
            cat(&[ftyp(b"qt  "), bx64(b"moov", &mvhd_v0(1, 1))]),
        ];
        for s in &samples {
            for len in 0..=s.len() {
                probe(&s[..len]);
            }
            // Flip each byte to 0x00 / 0xFF: hits every size field's edge cases.
            for i in 0..s.len() {
                for val in [0x00, 0x01, 0xFF] {
                    let mut m = s.clone();
                    m[i] = val;
                    probe(&m);
                }
            }
        }
    }

    #[test]
    fn size_bytes_larger_than_data_is_harmless() {
        let bytes = mp4(b"isom", mvhd_v0(10, 20));
        let info = probe_reader(Cursor::new(&bytes), 1 << 40).unwrap();
        assert_eq!(info.duration_secs, Some(2.0));
        let info = probe_reader(Cursor::new(png(2, 3)), u64::MAX).unwrap();
        assert_eq!(info.dimensions, Some((2, 3)));
    }

    #[test]
    fn format_predicates_and_names() {
        use MediaFormat::*;
        let table = [
            (Jpeg, true, false, "JPEG"),
            (Png, true, false, "PNG"),
            (Gif, true, false, "GIF"),
            (Webp, true, false, "WebP"),
            (Heif, true, false, "HEIF"),
            (Mp4, false, true, "MP4"),
            (Mov, false, true, "MOV"),
            (Unknown, false, false, "unknown"),
        ];
        for (f, image, video, name) in table {
            assert_eq!(f.is_image(), image, "{name}");
            assert_eq!(f.is_video(), video, "{name}");
            assert_eq!(f.name(), name);
            assert_eq!(f.to_string(), name);
        }
    }

    #[test]
    fn format_from_extension_cases() {
        use MediaFormat::*;
        let table = [
            ("photo.jpg", Jpeg),
            ("photo.JPEG", Jpeg),
            ("media/a.b.png", Png),
            ("anim.GIF", Gif),
            ("x.webp", Webp),
            ("IMG_1.HEIC", Heif),
            ("x.heif", Heif),
            ("clip.mp4", Mp4),
            ("clip.M4V", Mp4),
            ("clip.MoV", Mov),
            ("https://cdn.example.com/v/clip.mp4?sig=abc.png&x=1", Mp4),
            ("https://cdn.example.com/p.jpg#frag.mov", Jpeg),
            ("https://cdn.example.com/p.png?a=b#c", Png),
            ("https://example.com/video", Unknown),
            ("https://example.com/dir.mp4/", Unknown),
            ("https://example.com/dir.mp4/file", Unknown),
            ("C:\\media\\pic.PNG", Png),
            ("archive.tar.gz", Unknown),
            ("noext", Unknown),
            ("trailingdot.", Unknown),
            ("", Unknown),
            ("?x.png", Unknown),
        ];
        for (input, want) in table {
            assert_eq!(format_from_extension(input), want, "{input:?}");
        }
    }

    #[test]
    fn probe_file_detects_jpeg_named_png() {
        let mut f = tempfile::Builder::new().suffix(".png").tempfile().unwrap();
        let bytes = jpeg(1200, 800);
        f.write_all(&bytes).unwrap();
        f.flush().unwrap();
        let info = probe_file(f.path()).unwrap();
        assert_eq!(format_from_extension(&f.path().to_string_lossy()), MediaFormat::Png);
        assert_eq!(
            info,
            MediaInfo {
                format: MediaFormat::Jpeg,
                size_bytes: bytes.len() as u64,
                dimensions: Some((1200, 800)),
                duration_secs: None,
            }
        );
    }

    #[test]
    fn probe_file_errors_on_missing_file_and_directory() {
        let dir = tempfile::tempdir().unwrap();
        let missing = probe_file(&dir.path().join("nope.mp4")).unwrap_err();
        assert_eq!(missing.kind(), io::ErrorKind::NotFound);
        assert!(probe_file(dir.path()).is_err());
    }

    /// Records every byte range read, to prove `mdat` is skipped.
    struct Spy<R> {
        inner: R,
        pos: u64,
        reads: Vec<(u64, u64)>,
    }

    impl<R: Read> Read for Spy<R> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = self.inner.read(buf)?;
            self.reads.push((self.pos, n as u64));
            self.pos += n as u64;
            Ok(n)
        }
    }

    impl<R: Seek> Seek for Spy<R> {
        fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
            self.pos = self.inner.seek(to)?;
            Ok(self.pos)
        }
    }

    #[test]
    fn moov_after_huge_sparse_mdat_is_found_without_reading_mdat() {
        // 5 GiB mdat needs a 64-bit largesize; set_len keeps the file sparse.
        const MDAT_PAYLOAD: u64 = 5 << 30;
        let mut f = tempfile::Builder::new().suffix(".mp4").tempfile().unwrap();
        let head = ftyp(b"mp42");
        f.write_all(&head).unwrap();
        f.write_all(&1u32.to_be_bytes()).unwrap();
        f.write_all(b"mdat").unwrap();
        f.write_all(&(MDAT_PAYLOAD + 16).to_be_bytes()).unwrap();
        let mdat_start = head.len() as u64 + 16;
        let mdat_end = mdat_start + MDAT_PAYLOAD;
        f.as_file().set_len(mdat_end).unwrap();
        f.seek(SeekFrom::Start(mdat_end)).unwrap();
        f.write_all(&bx(b"moov", &mvhd_v0(600, 150 * 600))).unwrap();
        f.flush().unwrap();

        let info = probe_file(f.path()).unwrap();
        assert_eq!(info.format, MediaFormat::Mp4);
        assert_eq!(info.duration_secs, Some(150.0));
        assert!(info.size_bytes > MDAT_PAYLOAD);

        let mut spy = Spy { inner: File::open(f.path()).unwrap(), pos: 0, reads: Vec::new() };
        let again = probe_reader(&mut spy, info.size_bytes).unwrap();
        assert_eq!(again, info);
        let total: u64 = spy.reads.iter().map(|&(_, n)| n).sum();
        assert!(total < 1024, "read {total} bytes");
        for &(at, n) in &spy.reads {
            assert!(at + n <= mdat_start || at >= mdat_end, "read {n} bytes at {at} inside mdat");
        }
    }

    #[test]
    fn exif_orientation_turns_the_dimensions_of_portrait_photos() {
        // (EXIF orientation, dimensions as shown) for a 100×50 stored JPEG.
        for (orientation, shown) in
            [(1, (100, 50)), (3, (100, 50)), (5, (50, 100)), (6, (50, 100)), (7, (50, 100)), (8, (50, 100))]
        {
            let bytes = with_exif_orientation(&jpeg(100, 50), orientation);
            let info = probe_reader(Cursor::new(&bytes), bytes.len() as u64).unwrap();
            assert_eq!(info.dimensions, Some(shown), "orientation {orientation}");
            assert_eq!(
                exif_orientation(&bytes).is_some_and(swaps_sides),
                shown.0 < shown.1,
                "orientation {orientation}"
            );
        }
        assert_eq!(probe_reader(Cursor::new(jpeg(100, 50)), 0).unwrap().dimensions, None, "no bytes, no header");
        assert_eq!(exif_orientation(&png(10, 20)), None);
    }

    #[test]
    fn image_probe_reads_only_a_small_prefix() {
        // A large PNG-looking file: the header is all that should be read.
        let mut bytes = png(100, 50);
        bytes.resize(4 << 20, 0xEE);
        let mut spy = Spy { inner: Cursor::new(&bytes), pos: 0, reads: Vec::new() };
        let info = probe_reader(&mut spy, bytes.len() as u64).unwrap();
        assert_eq!(info.dimensions, Some((100, 50)));
        let total: u64 = spy.reads.iter().map(|&(_, n)| n).sum();
        assert!(total <= (SNIFF_LEN + 4 * IMAGE_BUF_CAPACITY) as u64, "read {total} bytes");
    }
}
