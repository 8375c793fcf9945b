//! Declarative macros that turn one element list into a Rust type plus its
//! JSON and XML codecs (see [`codec`](super::codec) for the kinds).

/// The Rust type of a field of the given kind.
#[doc(hidden)]
#[macro_export]
macro_rules! fhir_field_type {
    (opt $t:ty) => { ::core::option::Option<$t> };
    (req $t:ty) => { $t };
    (vec $t:ty) => { ::std::vec::Vec<$t> };
    (choice $t:ty) => { ::core::option::Option<$t> };
    (attr $t:ty) => { ::core::option::Option<$t> };
    (req_attr $t:ty) => { $t };
}

/// A FHIR complex type: fields in schema order, each `name: kind Type = "jsonName"`.
///
/// ```
/// use gpconnect_core::fhir::datatypes::Extension;
/// use gpconnect_core::fhir::primitive::DateTime;
///
/// gpconnect_core::fhir_struct! {
///     /// A period of time.
///     pub struct Span {
///         id: attr String = "id",
///         extension: vec Extension = "extension",
///         start: opt DateTime = "start",
///         end: opt DateTime = "end",
///     }
/// }
///
/// let span = Span { start: DateTime::new("2026-11-25").ok(), ..Span::default() };
/// let json = serde_json::to_string(&span).unwrap();
/// assert_eq!(json, r#"{"start":"2026-11-25"}"#);
/// ```
#[macro_export]
macro_rules! fhir_struct {
    (
        $(#[$meta:meta])*
        pub struct $name:ident {
            $( $(#[$fmeta:meta])* $field:ident : $card:ident $ty:ty = $json:literal ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Default, PartialEq)]
        pub struct $name {
            $( $(#[$fmeta])* pub $field: $crate::fhir_field_type!($card $ty), )*
            /// Ids and extensions of primitive elements (`_name` in JSON).
            pub primitive_extensions: $crate::fhir::codec::PrimitiveExtensions,
        }
        $crate::fhir_struct!(@codec $name, ::core::option::Option::None, { $( $field : $card $ty = $json ),* });
    };

    (@codec $name:ident, $rt:expr, { $( $field:ident : $card:ident $ty:ty = $json:literal ),* }) => {
        impl $name {
            /// Decode the fields of an already-opened JSON object.
            #[doc(hidden)]
            pub fn __visit_fields<'de, A: ::serde::de::MapAccess<'de>>(
                map: &mut A,
                mut type_seen: bool,
            ) -> ::core::result::Result<Self, A::Error> {
                #[allow(unused_imports)]
                use ::serde::de::Error as _;
                let rt: ::core::option::Option<&'static str> = $rt;
                $( let mut $field: $crate::fhir::codec::$card::Acc<$ty> = ::core::option::Option::None; )*
                let mut exts = $crate::fhir::codec::PrimitiveExtensions::default();
                while let ::core::option::Option::Some(key) =
                    map.next_key_seed($crate::fhir::codec::KeySeed)?
                {
                    let (is_ext, name) = $crate::fhir::codec::split_ext_key(key.as_str());
                    $(
                        if $crate::fhir::codec::$card::matches::<$ty>(name, $json) {
                            if is_ext {
                                $crate::fhir::codec::$card::de_ext::<$ty, A>(&mut exts, map, $json, name)?;
                            } else {
                                $crate::fhir::codec::$card::de_value::<$ty, A>(&mut $field, map, name)?;
                            }
                            continue;
                        }
                    )*
                    if let (false, "resourceType", ::core::option::Option::Some(expected)) = (is_ext, name, rt) {
                        let got = map.next_value_seed($crate::fhir::codec::KeySeed)?;
                        if got.as_str() != expected {
                            return ::core::result::Result::Err(A::Error::custom(format_args!(
                                "resourceType is '{}', expected '{}'", got.as_str(), expected
                            )));
                        }
                        if type_seen {
                            return ::core::result::Result::Err(A::Error::custom("resourceType appears more than once"));
                        }
                        type_seen = true;
                        continue;
                    }
                    return ::core::result::Result::Err($crate::fhir::codec::unknown_element(key.as_str()));
                }
                if rt.is_some() && !type_seen {
                    return ::core::result::Result::Err(A::Error::custom("missing resourceType"));
                }
                ::core::result::Result::Ok($name {
                    $( $field: $crate::fhir::codec::$card::finish($field, &exts, $json).map_err(A::Error::custom)?, )*
                    primitive_extensions: exts,
                })
            }

            /// Encode the fields into an open JSON object.
            #[doc(hidden)]
            pub fn __serialize_fields<M: ::serde::ser::SerializeMap>(&self, map: &mut M) -> ::core::result::Result<(), M::Error> {
                let rt: ::core::option::Option<&'static str> = $rt;
                if let ::core::option::Option::Some(rt) = rt {
                    map.serialize_entry("resourceType", rt)?;
                }
                $( $crate::fhir::codec::$card::ser(map, $json, &self.$field, &self.primitive_extensions)?; )*
                ::core::result::Result::Ok(())
            }

            /// Write the element (named `name`, or the resource type for a resource).
            #[doc(hidden)]
            pub fn __write_xml(&self, name: &str, w: &mut $crate::fhir::xml::XmlWriter) {
                let rt: ::core::option::Option<&'static str> = $rt;
                let name = rt.unwrap_or(name);
                w.open_start(name);
                $( $crate::fhir::codec::$card::write_attr(w, $json, &self.$field); )*
                $( $crate::fhir::codec::$card::write_child(w, $json, &self.$field, &self.primitive_extensions); )*
                w.end(name);
            }

            /// Read the element from an XML node.
            #[doc(hidden)]
            pub fn __read_xml(node: &$crate::fhir::xml::XmlNode<'_>) -> ::core::result::Result<Self, $crate::fhir::codec::DecodeError> {
                use $crate::fhir::codec::DecodeError;
                let rt: ::core::option::Option<&'static str> = $rt;
                if let ::core::option::Option::Some(rt) = rt {
                    if node.name != rt {
                        return ::core::result::Result::Err(DecodeError::invalid(format!(
                            "expected a {} resource, found '{}'", rt, node.name
                        )));
                    }
                }
                if node.raw.is_some() {
                    return ::core::result::Result::Err(DecodeError::invalid("unexpected XHTML"));
                }
                $( let mut $field: $crate::fhir::codec::$card::Acc<$ty> = ::core::option::Option::None; )*
                let mut exts = $crate::fhir::codec::PrimitiveExtensions::default();
                'attrs: for (aname, aval) in &node.attrs {
                    $(
                        if $crate::fhir::codec::$card::matches::<$ty>(aname, $json)
                            && $crate::fhir::codec::$card::read_attr(&mut $field, aname, aval)?
                        {
                            continue 'attrs;
                        }
                    )*
                    return ::core::result::Result::Err(DecodeError::invalid(format!("unknown attribute '{aname}'")));
                }
                'children: for child in &node.children {
                    $(
                        if $crate::fhir::codec::$card::matches::<$ty>(child.name, $json) {
                            $crate::fhir::codec::$card::read_child(&mut $field, &mut exts, $json, child)?;
                            continue 'children;
                        }
                    )*
                    return ::core::result::Result::Err(DecodeError::invalid(format!("unknown element '{}'", child.name)));
                }
                ::core::result::Result::Ok($name {
                    $( $field: $crate::fhir::codec::$card::finish($field, &exts, $json).map_err(DecodeError::invalid)?, )*
                    primitive_extensions: exts,
                })
            }
        }

        impl $crate::fhir::codec::Element for $name {
            fn deserialize_element<'de, D: ::serde::Deserializer<'de>>(d: D) -> ::core::result::Result<Self, D::Error> {
                struct V;
                impl<'de> ::serde::de::Visitor<'de> for V {
                    type Value = $name;
                    fn expecting(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                        f.write_str(concat!("a FHIR ", stringify!($name), " object"))
                    }
                    fn visit_map<A: ::serde::de::MapAccess<'de>>(self, mut map: A) -> ::core::result::Result<$name, A::Error> {
                        $name::__visit_fields(&mut map, false)
                    }
                }
                d.deserialize_map(V)
            }

            fn serialize_element<S: ::serde::Serializer>(&self, s: S) -> ::core::result::Result<S::Ok, S::Error> {
                use ::serde::ser::SerializeMap as _;
                let mut map = s.serialize_map(::core::option::Option::None)?;
                self.__serialize_fields(&mut map)?;
                map.end()
            }

            fn write_xml(
                &self,
                name: &str,
                _ext: ::core::option::Option<&$crate::fhir::codec::PrimitiveExt>,
                w: &mut $crate::fhir::xml::XmlWriter,
            ) {
                self.__write_xml(name, w)
            }

            fn read_xml(
                node: &$crate::fhir::xml::XmlNode<'_>,
            ) -> ::core::result::Result<
                (::core::option::Option<Self>, ::core::option::Option<$crate::fhir::codec::PrimitiveExt>),
                $crate::fhir::codec::DecodeError,
            > {
                $name::__read_xml(node).map(|v| (::core::option::Option::Some(v), ::core::option::Option::None))
            }
        }

        #[cfg(test)]
        impl $crate::fhir::arbitrary::Gen for $name {
            fn gen_value(rng: &mut $crate::fhir::arbitrary::Rng, depth: u32) -> Self {
                let mut exts = $crate::fhir::codec::PrimitiveExtensions::default();
                $( let $field = $crate::fhir::arbitrary::$card::<$ty>(rng, depth, &mut exts, $json); )*
                $name { $( $field, )* primitive_extensions: exts }
            }
        }

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, s: S) -> ::core::result::Result<S::Ok, S::Error> {
                $crate::fhir::codec::Element::serialize_element(self, s)
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(d: D) -> ::core::result::Result<Self, D::Error> {
                <$name as $crate::fhir::codec::Element>::deserialize_element(d)
            }
        }
    };
}

/// A FHIR resource: like [`fhir_struct!`] plus `resourceType`.
#[macro_export]
macro_rules! fhir_resource {
    (
        $(#[$meta:meta])*
        pub struct $name:ident ($rt:literal) {
            $( $(#[$fmeta:meta])* $field:ident : $card:ident $ty:ty = $json:literal ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Default, PartialEq)]
        pub struct $name {
            $( $(#[$fmeta])* pub $field: $crate::fhir_field_type!($card $ty), )*
            /// Ids and extensions of primitive elements (`_name` in JSON).
            pub primitive_extensions: $crate::fhir::codec::PrimitiveExtensions,
        }
        $crate::fhir_struct!(@codec $name, ::core::option::Option::Some($rt), { $( $field : $card $ty = $json ),* });

        impl $crate::fhir::codec::FhirResource for $name {
            const TYPE: &'static str = $rt;
            fn read_root(node: &$crate::fhir::xml::XmlNode<'_>) -> ::core::result::Result<Self, $crate::fhir::codec::DecodeError> {
                $name::__read_xml(node)
            }
            fn write_root(&self, w: &mut $crate::fhir::xml::XmlWriter) {
                self.__write_xml($rt, w)
            }
        }
    };
}

/// A FHIR choice element (`value[x]`) as an enum: `Variant(Type) = "valueType"`.
#[macro_export]
macro_rules! fhir_choice {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident ( $ty:ty ) = $key:literal ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq)]
        pub enum $name {
            $( $(#[$vmeta])* $variant($ty), )*
        }

        impl $crate::fhir::codec::Choice for $name {
            fn key_for(name: &str) -> ::core::option::Option<&'static str> {
                match name {
                    $( $key => ::core::option::Option::Some($key), )*
                    _ => ::core::option::Option::None,
                }
            }
            fn key_is_primitive(key: &str) -> bool {
                match key {
                    $( $key => <$ty as $crate::fhir::codec::Element>::PRIMITIVE, )*
                    _ => false,
                }
            }
            fn de_variant<'de, A: ::serde::de::MapAccess<'de>>(key: &str, map: &mut A) -> ::core::result::Result<Self, A::Error> {
                match key {
                    $( $key => ::core::result::Result::Ok($name::$variant(
                        map.next_value_seed($crate::fhir::codec::ElementSeed::<$ty>::default())?,
                    )), )*
                    other => ::core::result::Result::Err($crate::fhir::codec::unknown_element(other)),
                }
            }
            fn key(&self) -> &'static str {
                match self {
                    $( $name::$variant(_) => $key, )*
                }
            }
            fn ser_value<M: ::serde::ser::SerializeMap>(&self, map: &mut M) -> ::core::result::Result<(), M::Error> {
                match self {
                    $( $name::$variant(v) => map.serialize_entry($key, &$crate::fhir::codec::Ser(v)), )*
                }
            }
            fn write_xml(&self, ext: ::core::option::Option<&$crate::fhir::codec::PrimitiveExt>, w: &mut $crate::fhir::xml::XmlWriter) {
                match self {
                    $( $name::$variant(v) => $crate::fhir::codec::Element::write_xml(v, $key, ext, w), )*
                }
            }
            fn read_xml(
                key: &str,
                node: &$crate::fhir::xml::XmlNode<'_>,
            ) -> ::core::result::Result<
                (::core::option::Option<Self>, ::core::option::Option<$crate::fhir::codec::PrimitiveExt>),
                $crate::fhir::codec::DecodeError,
            > {
                match key {
                    $( $key => {
                        let (v, e) = <$ty as $crate::fhir::codec::Element>::read_xml(node)?;
                        ::core::result::Result::Ok((v.map($name::$variant), e))
                    } )*
                    other => ::core::result::Result::Err($crate::fhir::codec::DecodeError::invalid(format!("unknown element '{other}'"))),
                }
            }
        }

        #[cfg(test)]
        impl $crate::fhir::arbitrary::Gen for $name {
            fn gen_value(rng: &mut $crate::fhir::arbitrary::Rng, depth: u32) -> Self {
                let options: &[fn(&mut $crate::fhir::arbitrary::Rng, u32) -> $name] = &[
                    $( |r, d| $name::$variant(<$ty as $crate::fhir::arbitrary::Gen>::gen_value(r, d)), )*
                ];
                let pick = rng.below(options.len());
                options[pick](rng, depth)
            }
        }
    };
}

/// The resources of one FHIR version as an enum (for `contained` and
/// `Bundle.entry.resource`), boxed so the enum stays small.
#[macro_export]
macro_rules! fhir_resource_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $variant:ident ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq)]
        pub enum $name {
            $( #[doc = concat!("A ", stringify!($variant), ".")] $variant(::std::boxed::Box<$variant>), )*
        }

        $(
            impl ::core::convert::From<$variant> for $name {
                fn from(r: $variant) -> Self {
                    $name::$variant(::std::boxed::Box::new(r))
                }
            }
        )*

        impl $name {
            /// The `resourceType`.
            pub fn resource_type(&self) -> &'static str {
                match self {
                    $( $name::$variant(_) => <$variant as $crate::fhir::codec::FhirResource>::TYPE, )*
                }
            }

            fn __from_type_and_fields<'de, A: ::serde::de::MapAccess<'de>>(
                rt: &str,
                map: &mut A,
            ) -> ::core::result::Result<Self, A::Error> {
                use ::serde::de::Error as _;
                match rt {
                    $( stringify!($variant) => ::core::result::Result::Ok($name::$variant(::std::boxed::Box::new(
                        $variant::__visit_fields(map, true)?,
                    ))), )*
                    other => ::core::result::Result::Err(A::Error::custom(format_args!(
                        "unsupported resourceType {}", $crate::error::Echo(other)
                    ))),
                }
            }

            fn __from_value(v: ::serde_json::Value) -> ::core::result::Result<Self, ::serde_json::Error> {
                use ::serde::de::Error as _;
                let rt = v
                    .get("resourceType")
                    .and_then(|t| t.as_str())
                    .ok_or_else(|| ::serde_json::Error::custom("missing resourceType"))?
                    .to_owned();
                match rt.as_str() {
                    $( stringify!($variant) => {
                        // Track the path inside the buffered object so the
                        // error still names the element (see codec::nested_error).
                        let mut track = ::serde_path_to_error::Track::new();
                        let de = ::serde_path_to_error::Deserializer::new(v, &mut track);
                        match <$variant as $crate::fhir::codec::Element>::deserialize_element(de) {
                            ::core::result::Result::Ok(r) => ::core::result::Result::Ok($name::$variant(::std::boxed::Box::new(r))),
                            ::core::result::Result::Err(e) => ::core::result::Result::Err(
                                $crate::fhir::codec::nested_error(&track.path().to_string(), &e),
                            ),
                        }
                    } )*
                    other => ::core::result::Result::Err(::serde_json::Error::custom(format_args!(
                        "unsupported resourceType {}", $crate::error::Echo(other)
                    ))),
                }
            }
        }

        impl $crate::fhir::codec::Element for $name {
            fn deserialize_element<'de, D: ::serde::Deserializer<'de>>(d: D) -> ::core::result::Result<Self, D::Error> {
                struct V;
                impl<'de> ::serde::de::Visitor<'de> for V {
                    type Value = $name;
                    fn expecting(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                        f.write_str("a FHIR resource")
                    }
                    fn visit_map<A: ::serde::de::MapAccess<'de>>(self, mut map: A) -> ::core::result::Result<$name, A::Error> {
                        use ::serde::de::Error as _;
                        let first = match map.next_key_seed($crate::fhir::codec::KeySeed)? {
                            ::core::option::Option::Some(k) => k,
                            ::core::option::Option::None => return ::core::result::Result::Err(A::Error::custom("missing resourceType")),
                        };
                        if first.as_str() == "resourceType" {
                            let rt = map.next_value_seed($crate::fhir::codec::KeySeed)?;
                            return $name::__from_type_and_fields(rt.as_str(), &mut map);
                        }
                        // Slow path: `resourceType` is not first, so buffer the object.
                        let mut obj = ::serde_json::Map::new();
                        let v: ::serde_json::Value = map.next_value()?;
                        obj.insert(first.as_str().to_owned(), v);
                        while let ::core::option::Option::Some(k) = map.next_key_seed($crate::fhir::codec::KeySeed)? {
                            let v: ::serde_json::Value = map.next_value()?;
                            obj.insert(k.as_str().to_owned(), v);
                        }
                        $name::__from_value(::serde_json::Value::Object(obj)).map_err(A::Error::custom)
                    }
                }
                d.deserialize_map(V)
            }

            fn serialize_element<S: ::serde::Serializer>(&self, s: S) -> ::core::result::Result<S::Ok, S::Error> {
                match self {
                    $( $name::$variant(r) => $crate::fhir::codec::Element::serialize_element(&**r, s), )*
                }
            }

            fn write_xml(
                &self,
                name: &str,
                _ext: ::core::option::Option<&$crate::fhir::codec::PrimitiveExt>,
                w: &mut $crate::fhir::xml::XmlWriter,
            ) {
                w.open_start(name);
                $crate::fhir::codec::FhirResource::write_root(self, w);
                w.end(name);
            }

            fn read_xml(
                node: &$crate::fhir::xml::XmlNode<'_>,
            ) -> ::core::result::Result<
                (::core::option::Option<Self>, ::core::option::Option<$crate::fhir::codec::PrimitiveExt>),
                $crate::fhir::codec::DecodeError,
            > {
                use $crate::fhir::codec::DecodeError;
                if !node.attrs.is_empty() || node.children.len() != 1 {
                    return ::core::result::Result::Err(DecodeError::invalid("expected exactly one resource element"));
                }
                let inner = &node.children[0];
                let r = <$name as $crate::fhir::codec::FhirResource>::read_root(inner)
                    .map_err(|e| e.within(inner.name, ::core::option::Option::None))?;
                ::core::result::Result::Ok((::core::option::Option::Some(r), ::core::option::Option::None))
            }
        }

        impl $crate::fhir::codec::FhirResource for $name {
            const TYPE: &'static str = $crate::fhir::codec::ANY_RESOURCE;
            fn read_root(node: &$crate::fhir::xml::XmlNode<'_>) -> ::core::result::Result<Self, $crate::fhir::codec::DecodeError> {
                match node.name {
                    $( stringify!($variant) => ::core::result::Result::Ok($name::$variant(::std::boxed::Box::new(
                        $variant::__read_xml(node)?,
                    ))), )*
                    other => ::core::result::Result::Err($crate::fhir::codec::DecodeError::invalid(format!(
                        "unsupported resource type {}", $crate::error::Echo(other)
                    ))),
                }
            }
            fn write_root(&self, w: &mut $crate::fhir::xml::XmlWriter) {
                match self {
                    $( $name::$variant(r) => $crate::fhir::codec::FhirResource::write_root(&**r, w), )*
                }
            }
        }

        #[cfg(test)]
        impl $crate::fhir::arbitrary::Gen for $name {
            fn gen_value(rng: &mut $crate::fhir::arbitrary::Rng, depth: u32) -> Self {
                let options: &[fn(&mut $crate::fhir::arbitrary::Rng, u32) -> $name] = &[
                    $( |r, d| $name::$variant(::std::boxed::Box::new(<$variant as $crate::fhir::arbitrary::Gen>::gen_value(r, d))), )*
                ];
                let pick = rng.below(options.len());
                options[pick](rng, depth)
            }
        }

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, s: S) -> ::core::result::Result<S::Ok, S::Error> {
                $crate::fhir::codec::Element::serialize_element(self, s)
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(d: D) -> ::core::result::Result<Self, D::Error> {
                <$name as $crate::fhir::codec::Element>::deserialize_element(d)
            }
        }
    };
}
