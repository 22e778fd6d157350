//! Reading allow-listed keys of JSON objects as they stream (any serde deserializer: a
//! file's bytes, an RPC reply, a `Value`). Every other key's value is skipped with
//! `IgnoredAny`, never materialised: PM2's process lists (`jlist`, `getMonitorData`,
//! `dump.pm2`) carry every app's environment, and a key we do not name is never held in
//! memory, however large. Used by the saved-list reader ([`super::dump`]) and the jlist
//! import of replays (`incident::import`).
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use std::fmt;
use std::marker::PhantomData;

/// A scalar as read; an object or array is skipped (only that it was one is kept).
#[derive(Debug, Clone, PartialEq)]
pub enum Lite {
    Null,
    U64(u64),
    I64(i64),
    F64(f64),
    Str(String),
    Other,
}

impl Lite {
    /// Present and not null (a null field counts as absent).
    pub fn given(v: &Option<Lite>) -> Option<&Lite> {
        v.as_ref().filter(|l| **l != Lite::Null)
    }
}

/// An object whose allow-listed keys are read into `Self`; every other key's value is skipped.
pub trait Fields: Default {
    const KEYS: &'static [&'static str];
    /// Reads the value of `KEYS[key]`.
    fn read<'de, A: MapAccess<'de>>(&mut self, key: usize, map: &mut A) -> Result<(), A::Error>;
}

/// The next value of `map` as a [`Lite`].
pub fn lite<'de, A: MapAccess<'de>>(map: &mut A) -> Result<Option<Lite>, A::Error> {
    map.next_value_seed(LiteSeed).map(Some)
}

/// The next value of `map` read as a `T` when it is an object; `None` (content skipped)
/// when it is anything else.
pub fn object<'de, T: Fields, A: MapAccess<'de>>(map: &mut A) -> Result<Option<T>, A::Error> {
    map.next_value_seed(ObjectOf::<T>(PhantomData))
}

/// Visitor methods for every JSON value but arrays and objects, all answered by `$body`.
macro_rules! scalars {
    ($self:ident => $body:expr) => {
        fn visit_bool<E: serde::de::Error>($self, _: bool) -> Result<Self::Value, E> {
            $body
        }
        fn visit_u64<E: serde::de::Error>($self, _: u64) -> Result<Self::Value, E> {
            $body
        }
        fn visit_i64<E: serde::de::Error>($self, _: i64) -> Result<Self::Value, E> {
            $body
        }
        fn visit_f64<E: serde::de::Error>($self, _: f64) -> Result<Self::Value, E> {
            $body
        }
        fn visit_str<E: serde::de::Error>($self, _: &str) -> Result<Self::Value, E> {
            $body
        }
        fn visit_unit<E: serde::de::Error>($self) -> Result<Self::Value, E> {
            $body
        }
        fn visit_none<E: serde::de::Error>($self) -> Result<Self::Value, E> {
            $body
        }
    };
}
pub(crate) use scalars;

/// Reads an object's allow-listed keys (`Some`); any other value is skipped (`None`).
pub struct ObjectOf<T>(pub PhantomData<T>);

impl<'de, T: Fields> DeserializeSeed<'de> for ObjectOf<T> {
    type Value = Option<T>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Option<T>, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de, T: Fields> Visitor<'de> for ObjectOf<T> {
    type Value = Option<T>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Option<T>, A::Error> {
        read_object(map).map(Some)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Option<T>, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(None)
    }

    scalars!(self => Ok(None));
}

/// The allow-listed keys of the object `map` is reading. A repeated key: the last one counts,
/// as in a JSON object read whole.
pub fn read_object<'de, T: Fields, A: MapAccess<'de>>(mut map: A) -> Result<T, A::Error> {
    let mut t = T::default();
    while let Some(key) = map.next_key_seed(KeyOf::<T>(PhantomData))? {
        match key {
            Some(k) => t.read(k, &mut map)?,
            None => {
                map.next_value::<IgnoredAny>()?;
            }
        }
    }
    Ok(t)
}

/// A key: its index among `T::KEYS`, or `None` (skipped), never kept as a string.
struct KeyOf<T>(PhantomData<T>);

impl<'de, T: Fields> DeserializeSeed<'de> for KeyOf<T> {
    type Value = Option<usize>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Option<usize>, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de, T: Fields> Visitor<'de> for KeyOf<T> {
    type Value = Option<usize>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a key")
    }

    fn visit_str<E: de::Error>(self, k: &str) -> Result<Option<usize>, E> {
        Ok(T::KEYS.iter().position(|x| *x == k))
    }
}

/// A scalar field's value; an object or array there is skipped.
struct LiteSeed;

impl<'de> DeserializeSeed<'de> for LiteSeed {
    type Value = Lite;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Lite, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for LiteSeed {
    type Value = Lite;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Lite, E> {
        Ok(Lite::Other)
    }
    fn visit_u64<E: de::Error>(self, n: u64) -> Result<Lite, E> {
        Ok(Lite::U64(n))
    }
    fn visit_i64<E: de::Error>(self, n: i64) -> Result<Lite, E> {
        Ok(Lite::I64(n))
    }
    fn visit_f64<E: de::Error>(self, n: f64) -> Result<Lite, E> {
        Ok(Lite::F64(n))
    }
    fn visit_str<E: de::Error>(self, s: &str) -> Result<Lite, E> {
        Ok(Lite::Str(s.to_string()))
    }
    fn visit_string<E: de::Error>(self, s: String) -> Result<Lite, E> {
        Ok(Lite::Str(s))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Lite, E> {
        Ok(Lite::Null)
    }
    fn visit_none<E: de::Error>(self) -> Result<Lite, E> {
        Ok(Lite::Null)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Lite, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Lite::Other)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Lite, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Lite::Other)
    }
}
