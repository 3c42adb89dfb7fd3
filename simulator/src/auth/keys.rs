//! The RSA key that signs merchant tokens.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{DecodingKey, EncodingKey};
use rand_chacha_03::ChaCha20Rng;
use rand_chacha_03::rand_core::SeedableRng;
use rsa::RsaPrivateKey;
use rsa::pkcs1::{DecodeRsaPrivateKey, EncodeRsaPrivateKey};
use rsa::pkcs8::DecodePrivateKey;
use rsa::sha2::{Digest, Sha256};
use rsa::traits::PublicKeyParts;

const KEY_BITS: usize = 2048;

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("cannot generate an RSA key: {0}")]
    Generate(rsa::Error),
    #[error("the signing key is neither a PKCS#8 nor a PKCS#1 RSA private key in PEM form")]
    Pem,
    #[error("cannot encode the RSA key: {0}")]
    Encode(String),
}

/// An RS256 signing key with its public half as JWK parameters.
pub struct SigningKey {
    encoding: EncodingKey,
    decoding: DecodingKey,
    /// RFC 7638 thumbprint of the public key: stable for a given key, so the JWKS `kid` and the
    /// token header agree across restarts with the same key.
    pub kid: String,
    n: String,
    e: String,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey").field("kid", &self.kid).finish_non_exhaustive()
    }
}

impl SigningKey {
    /// A fresh 2048-bit key. With a seed the key is derived from it, so that `--seed N` gives
    /// byte-identical tokens run after run.
    pub fn generate(seed: Option<u64>) -> Result<Self, KeyError> {
        let mut rng = match seed {
            Some(seed) => ChaCha20Rng::seed_from_u64(seed),
            None => ChaCha20Rng::from_seed(rand::random::<[u8; 32]>()),
        };
        let key = RsaPrivateKey::new(&mut rng, KEY_BITS).map_err(KeyError::Generate)?;
        Self::from_private(&key)
    }

    /// A key loaded from PEM (`-----BEGIN PRIVATE KEY-----` or `-----BEGIN RSA PRIVATE KEY-----`).
    pub fn from_pem(pem: &str) -> Result<Self, KeyError> {
        let key = RsaPrivateKey::from_pkcs8_pem(pem).or_else(|_| RsaPrivateKey::from_pkcs1_pem(pem)).map_err(|_| KeyError::Pem)?;
        Self::from_private(&key)
    }

    fn from_private(key: &RsaPrivateKey) -> Result<Self, KeyError> {
        let der = key.to_pkcs1_der().map_err(|e| KeyError::Encode(e.to_string()))?;
        let n = URL_SAFE_NO_PAD.encode(key.n().to_bytes_be());
        let e = URL_SAFE_NO_PAD.encode(key.e().to_bytes_be());
        let decoding = DecodingKey::from_rsa_components(&n, &e).map_err(|e| KeyError::Encode(e.to_string()))?;
        let thumbprint_input = format!(r#"{{"e":"{e}","kty":"RSA","n":"{n}"}}"#);
        let kid = URL_SAFE_NO_PAD.encode(Sha256::digest(thumbprint_input.as_bytes()));
        Ok(SigningKey { encoding: EncodingKey::from_rsa_der(der.as_bytes()), decoding, kid, n, e })
    }

    pub fn encoding(&self) -> &EncodingKey {
        &self.encoding
    }

    pub fn decoding(&self) -> &DecodingKey {
        &self.decoding
    }

    /// The public key as a JWK, as Keycloak publishes it.
    pub fn jwk(&self) -> serde_json::Value {
        serde_json::json!({
            "kid": self.kid,
            "kty": "RSA",
            "alg": "RS256",
            "use": "sig",
            "n": self.n,
            "e": self.e,
        })
    }
}
