//! The JSON shapes of the STIG Manager API as Stigward reads and writes them. Ids travel as
//! strings; field names are the contract's camelCase.

pub mod appinfo;
pub mod asset;
pub mod clone;
pub mod collection;
pub mod job;
pub mod metrics;
pub mod op;
pub mod review;
pub mod stig;
pub mod unreviewed;
pub mod user;

use serde::Serialize;

/// The API's error body. `code` and `detail` are left out when they have no value.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ErrorBody {
    pub error: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<serde_json::Value>,
}

/// Serializes integer ids as JSON strings, the way every id goes over the wire.
pub mod id_string {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(id: &i64, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(id)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
        let text = String::deserialize(d)?;
        parse(&text).map_err(serde::de::Error::custom)
    }

    /// Ids are 1 to 10 digits, as the contract's `StringIntId` pattern says.
    pub fn parse(text: &str) -> Result<i64, String> {
        let ok = !text.is_empty() && text.len() <= 10 && text.bytes().all(|b| b.is_ascii_digit());
        match ok {
            true => text.parse().map_err(|e| format!("'{text}' is not an id: {e}")),
            false => Err(format!("'{text}' is not an id (1 to 10 digits)")),
        }
    }
}

/// A key the contract requires whose value may be `null`. A plain `Option` field would read an
/// absent key as `None`; with this deserializer serde reports the key as missing instead.
pub mod required_nullable {
    use serde::{Deserialize, Deserializer};

    pub fn deserialize<'de, T, D>(d: D) -> Result<Option<T>, D::Error>
    where
        T: Deserialize<'de>,
        D: Deserializer<'de>,
    {
        Option::<T>::deserialize(d)
    }
}

/// The same as [`id_string`] for optional ids.
pub mod opt_id_string {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(id: &Option<i64>, s: S) -> Result<S::Ok, S::Error> {
        match id {
            Some(id) => s.collect_str(id),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
        match Option::<String>::deserialize(d)? {
            Some(text) => {
                super::id_string::parse(&text).map(Some).map_err(serde::de::Error::custom)
            }
            None => Ok(None),
        }
    }
}

/// An id string in a body array (`["12", "13"]`), checked as the contract's `StringIntId`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Deserialize)]
#[serde(transparent)]
pub struct IdString(#[serde(with = "id_string")] pub i64);
