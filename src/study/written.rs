//! What a study wrote for its reader (family.csv, saes.csv, law.json, the report, README.md), by a
//! fingerprint of each file's bytes as written, kept in study.json: a rerun writes these again,
//! and must tell a file the user changed since (an edited table, a note in the report page) from
//! its own, and refuse to replace it.

use std::collections::BTreeMap;
use std::path::Path;

/// File (relative to the study folder, `/`-separated) → its fingerprint as the study wrote it.
/// A file not listed (a study from an older ceq, or one killed while it replaced the file, which
/// it forgets first) is taken as the study's own.
pub type Written = BTreeMap<String, String>;

/// FNV-1a, 64 bits: the same on every build and platform (std's hasher is not), and enough to
/// tell an edit apart (this guards against mistakes, not an adversary).
pub fn fingerprint(bytes: &[u8]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("fnv1a64:{h:016x}")
}

/// The first listed file in `dir` whose bytes differ from what the study wrote; a file since
/// removed is not one (the study writes it anew).
pub fn changed(dir: &Path, written: &Written) -> Option<String> {
    written.iter().find_map(|(name, print)| {
        let bytes = std::fs::read(dir.join(name)).ok()?;
        (fingerprint(&bytes) != *print).then(|| name.clone())
    })
}

#[cfg(test)]
mod tests {
    /// The FNV reference's own test vectors (Fowler, Noll and Vo's FNV-1a 64-bit table).
    #[test]
    fn fingerprints_are_fnv1a_64() {
        assert_eq!(super::fingerprint(b""), "fnv1a64:cbf29ce484222325");
        assert_eq!(super::fingerprint(b"a"), "fnv1a64:af63dc4c8601ec8c");
        assert_eq!(super::fingerprint(b"foobar"), "fnv1a64:85944171f73967e8");
    }
}
