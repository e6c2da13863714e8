//! X25519 as every part of the core computes it: the sealed box (`seal`) and the onion layers
//! (`onion::hop`, on the client and on the node) share one function, so the faster route below
//! serves both.

use curve25519_dalek::montgomery::MontgomeryPoint;
use zeroize::Zeroizing;

/// X25519 (`crypto_scalarmult`): the u-coordinate of `clamp(secret) · P`, where `public` is P's
/// u-coordinate.
///
/// Where curve25519-dalek runs its AVX2 backend, its constant-time Edwards multiplication is much
/// faster than its Montgomery ladder (which has no SIMD path): about 33 µs against 52 µs. There the
/// shared point is computed through the Edwards form. Elsewhere (wasm32, CPUs without AVX2) the
/// detour costs ~10 % more than the ladder, so the ladder is used. Both give the RFC 7748 result;
/// the tests check that.
pub(crate) fn x25519(secret: &[u8; 32], public: &[u8; 32]) -> Zeroizing<[u8; 32]> {
    let shared = if vectorised_curve() { x25519_via_edwards(secret, public) } else { None };
    let shared = shared.unwrap_or_else(|| MontgomeryPoint(*public).mul_clamped(*secret));
    Zeroizing::new(shared.to_bytes())
}

/// X25519 through the Edwards form: lift u to a point (either sign gives the same u-coordinate
/// of the product), multiply, map back. `None` for u-coordinates on the twist, which have no
/// Edwards form.
fn x25519_via_edwards(secret: &[u8; 32], public: &[u8; 32]) -> Option<MontgomeryPoint> {
    MontgomeryPoint(*public).to_edwards(0).map(|point| point.mul_clamped(*secret).to_montgomery())
}

/// Whether curve25519-dalek picks its AVX2 backend here (it decides at run time the same way).
fn vectorised_curve() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::is_x86_feature_detected!("avx2")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_chacha::ChaCha20Rng;
    use rand_core::{RngCore, SeedableRng};

    /// The Edwards path gives the same shared point as the Montgomery ladder for every key on the
    /// curve (low-order points included), and `x25519` agrees with the ladder on the twist too.
    #[test]
    fn x25519_matches_the_ladder() {
        let mut rng = ChaCha20Rng::seed_from_u64(11);
        let mut low_order = vec![[0u8; 32], {
            let mut one = [0u8; 32];
            one[0] = 1;
            one
        }];
        // p − 1 (u = −1, on the twist) and an unreduced u ≥ p.
        let mut minus_one = [0xffu8; 32];
        minus_one[0] = 0xec;
        minus_one[31] = 0x7f;
        low_order.push(minus_one);
        low_order.push([0xff; 32]);
        let mut twist_seen = false;
        let mut curve_seen = false;
        for i in 0..120 {
            let mut secret = [0u8; 32];
            rng.fill_bytes(&mut secret);
            let mut public = [0u8; 32];
            match low_order.get(i) {
                Some(special) => public = *special,
                None => rng.fill_bytes(&mut public),
            }
            let on_curve = MontgomeryPoint(public).to_edwards(0).is_some();
            twist_seen |= !on_curve;
            curve_seen |= on_curve;
            let ladder = MontgomeryPoint(public).mul_clamped(secret);
            assert_eq!(*x25519(&secret, &public), ladder.to_bytes(), "case {i}");
            if let Some(edwards) = x25519_via_edwards(&secret, &public) {
                assert_eq!(edwards, ladder, "case {i}");
            }
        }
        assert!(twist_seen && curve_seen);
    }
}
