//! The pod-template hash that names ReplicaSets (`<owner>-<hash>`) and labels their pods.
//!
//! As Kubernetes and Argo Rollouts compute it: FNV-32a over the template's JSON, then over the
//! collision count (4 bytes, little-endian) when there is one, printed in decimal and mapped onto
//! Kubernetes' "safe" alphabet (no vowels, no look-alike characters). Go's JSON field order cannot be
//! reproduced exactly, so a hash made here differs from one Argo made for the same template; finding
//! ReplicaSets therefore never relies on the hash alone (see the controller's adoption by template
//! equality).

/// The alphabet of `rand.SafeEncodeString` in Kubernetes.
const SAFE_ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";

const FNV_OFFSET: u32 = 2_166_136_261;
const FNV_PRIME: u32 = 16_777_619;

fn fnv32a(hash: u32, bytes: &[u8]) -> u32 {
    bytes
        .iter()
        .fold(hash, |h, b| (h ^ u32::from(*b)).wrapping_mul(FNV_PRIME))
}

/// The hash of a pod template (given as JSON), with an optional collision count.
#[must_use]
pub fn pod_template_hash(template: &serde_json::Value, collision_count: Option<i32>) -> String {
    let mut hash = fnv32a(FNV_OFFSET, template.to_string().as_bytes());
    if let Some(count) = collision_count {
        hash = fnv32a(hash, &count.to_le_bytes());
    }
    hash.to_string()
        .bytes()
        .map(|b| char::from(SAFE_ALPHABET[usize::from(b) % SAFE_ALPHABET.len()]))
        .collect()
}

/// FNV-32a of `text`: the one FNV-1a of the workspace (pod-template hashes, step hashes, and the
/// shard a cluster or an Application belongs to).
#[must_use]
pub fn fnv32a_of(text: &str) -> u32 {
    fnv32a(FNV_OFFSET, text.as_bytes())
}

/// FNV-32a of a string, in decimal: Argo's `currentStepHash` of the canary steps' JSON.
#[must_use]
pub fn fnv32a_decimal(text: &str) -> String {
    fnv32a_of(text).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_is_stable_and_uses_the_safe_alphabet() {
        let template = serde_json::json!({"metadata": {"labels": {"app": "web"}}});
        let a = pod_template_hash(&template, None);
        assert_eq!(a, pod_template_hash(&template, None));
        assert!(a.bytes().all(|b| SAFE_ALPHABET.contains(&b)), "{a}");
        assert_ne!(
            a,
            pod_template_hash(&template, Some(1)),
            "a collision count changes the hash"
        );
        assert_ne!(a, pod_template_hash(&serde_json::json!({}), None));
    }

    #[test]
    fn fnv_matches_the_published_test_vectors() {
        // FNV-1a 32-bit: "" -> 0x811c9dc5, "a" -> 0xe40c292c.
        assert_eq!(fnv32a_decimal(""), 0x811c_9dc5_u32.to_string());
        assert_eq!(fnv32a_decimal("a"), 0xe40c_292c_u32.to_string());
    }
}
