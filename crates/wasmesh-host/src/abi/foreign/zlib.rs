//! Envoy's `compress` and `uncompress` foreign functions: the zlib format (RFC 1950, what zlib's
//! own `compress` and `uncompress` read and write) at the default level, so data one host
//! compressed the other uncompresses. Bytes that are not zlib data are `SerializationFailure`,
//! as in Envoy.

use std::io::{Read, Write};

use flate2::read::ZlibDecoder;
use flate2::write::ZlibEncoder;
use flate2::Compression;

use crate::abi::Status;

/// `arguments` compressed.
pub fn compress(arguments: &[u8]) -> Result<Vec<u8>, Status> {
    let mut encoder = ZlibEncoder::new(Vec::new(), Compression::default());
    encoder
        .write_all(arguments)
        .map_err(|_| Status::SerializationFailure)?;
    encoder.finish().map_err(|_| Status::SerializationFailure)
}

/// `arguments` uncompressed, refused (`SerializationFailure`) when it is not zlib data or would
/// be larger than `limit` bytes: a small input can claim gigabytes, and Envoy, which grows its
/// buffer until the data fits, would try to hold them.
pub fn uncompress(arguments: &[u8], limit: usize) -> Result<Vec<u8>, Status> {
    let mut out = Vec::new();
    let cap = u64::try_from(limit).unwrap_or(u64::MAX).saturating_add(1);
    ZlibDecoder::new(arguments)
        .take(cap)
        .read_to_end(&mut out)
        .map_err(|_| Status::SerializationFailure)?;
    if out.len() > limit {
        return Err(Status::SerializationFailure);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_compress_writes_uncompress_reads() {
        let text = b"hello hello hello hello hello".repeat(100);
        let packed = compress(&text).unwrap();
        assert!(packed.len() < text.len() / 10, "{} bytes", packed.len());
        assert_eq!(packed[0], 0x78, "a zlib header");
        assert_eq!(uncompress(&packed, 1 << 20).unwrap(), text);
        assert_eq!(uncompress(&compress(b"").unwrap(), 16).unwrap(), b"");
    }

    #[test]
    fn garbage_and_bombs_are_refused() {
        assert_eq!(
            uncompress(b"not zlib at all", 1 << 20),
            Err(Status::SerializationFailure)
        );
        let bomb = compress(&vec![0u8; 4 << 20]).unwrap();
        assert!(bomb.len() < 8 << 10, "4 MiB of zeros packs small");
        assert_eq!(
            uncompress(&bomb, 1 << 20),
            Err(Status::SerializationFailure)
        );
        assert_eq!(uncompress(&bomb, 4 << 20).unwrap().len(), 4 << 20);
    }
}
