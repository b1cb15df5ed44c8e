//! The CWT claims (RFC 8392) of an HCERT payload: issuer (1), expiry (4), issued-at (6) and the
//! health certificate (-260, whose key 1 holds the EU DGC), plus a small typed view of the DGC:
//! the holder's name and date of birth, the schema version and the certificate kind.
//!
//! The DGC itself is kept as CBOR; its JSON schema is not validated here.

use std::collections::BTreeSet;

use ciborium::Value;

use crate::cose::read_cbor;
use crate::error::DccError;

/// CWT claim key of the issuer (a country code in DCCs).
pub const CLAIM_ISSUER: i64 = 1;
/// CWT claim key of the expiry time, in seconds since the Unix epoch.
pub const CLAIM_EXPIRES: i64 = 4;
/// CWT claim key of the issue time, in seconds since the Unix epoch.
pub const CLAIM_ISSUED_AT: i64 = 6;
/// CWT claim key of the health certificate map.
pub const CLAIM_HCERT: i64 = -260;
/// Key of the EU DGC v1 inside the health certificate map.
pub const HCERT_EU_DGC_V1: i64 = 1;

/// The claims of a DCC's CWT.
#[derive(Clone)]
pub struct Claims {
    pub(crate) issuer: Option<String>,
    pub(crate) issued_at: Option<i64>,
    pub(crate) expires: Option<i64>,
    pub(crate) dgc: Value,
}

impl std::fmt::Debug for Claims {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Claims")
            .field("issuer", &self.issuer)
            .field("issued_at", &self.issued_at)
            .field("expires", &self.expires)
            .field("dgc", &"<redacted>")
            .finish()
    }
}

/// Parses the COSE payload as CWT claims. Claim keys must be integers or text and unique; the
/// health certificate must be a map whose key 1 is a map (the DGC).
pub(crate) fn parse(payload: &[u8], max_depth: usize) -> Result<Claims, DccError> {
    let Value::Map(entries) = read_cbor(payload, max_depth).map_err(DccError::Claims)? else {
        return Err(DccError::Claims("payload is not a CBOR map"));
    };
    check_unique_keys(&entries)?;
    let mut issuer = None;
    let mut issued_at = None;
    let mut expires = None;
    let mut hcert = None;
    for (key, value) in entries {
        let Some(key) = key.as_integer().and_then(|k| i64::try_from(k).ok()) else {
            continue;
        };
        match key {
            CLAIM_ISSUER => match value {
                Value::Text(text) => issuer = Some(text),
                _ => return Err(DccError::Claims("iss is not text")),
            },
            CLAIM_ISSUED_AT => issued_at = Some(numeric_date(&value, "iat is not a numeric date")?),
            CLAIM_EXPIRES => expires = Some(numeric_date(&value, "exp is not a numeric date")?),
            CLAIM_HCERT => hcert = Some(value),
            _ => {}
        }
    }
    let Some(Value::Map(hcert)) = hcert else {
        return Err(DccError::Claims("no hcert (-260) map"));
    };
    check_unique_keys(&hcert)?;
    let dgc = hcert
        .into_iter()
        .find(|(k, _)| k.as_integer() == Some(HCERT_EU_DGC_V1.into()))
        .map(|(_, v)| v)
        .ok_or(DccError::Claims("hcert holds no EU DGC (key 1)"))?;
    if !dgc.is_map() {
        return Err(DccError::Claims("the EU DGC is not a map"));
    }
    Ok(Claims {
        issuer,
        issued_at,
        expires,
        dgc,
    })
}

/// Refuses duplicate keys (two readers could pick different values) and keys that are neither
/// integers nor text (RFC 8392 section 3).
fn check_unique_keys(entries: &[(Value, Value)]) -> Result<(), DccError> {
    let mut ints = BTreeSet::new();
    let mut texts = BTreeSet::new();
    for (key, _) in entries {
        let fresh = match key {
            Value::Integer(i) => ints.insert(i128::from(*i)),
            Value::Text(t) => texts.insert(t.as_str()),
            _ => return Err(DccError::Claims("claim key is neither integer nor text")),
        };
        if !fresh {
            return Err(DccError::Claims("duplicate claim key"));
        }
    }
    Ok(())
}

/// A CWT NumericDate: an integer, or a float truncated to whole seconds.
fn numeric_date(value: &Value, why: &'static str) -> Result<i64, DccError> {
    match value {
        Value::Integer(i) => i64::try_from(*i).map_err(|_| DccError::Claims(why)),
        Value::Float(f) if f.is_finite() && f.abs() < 1e15 => Ok(f.trunc() as i64),
        _ => Err(DccError::Claims(why)),
    }
}

/// The kind of a DGC: it holds exactly one of a vaccination (`v`), test (`t`) or recovery (`r`)
/// list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CertificateKind {
    Vaccination,
    Test,
    Recovery,
}

/// The holder as the DGC names them (`nam` and `dob`). Each field is `None` when absent or not
/// text; the standardised (ICAO 9303 transliterated) names are the ones to compare.
///
/// `Debug` redacts every field: a name or birth date has no place in a log.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Person {
    /// `nam.fn`, the family name as printed.
    pub family_name: Option<String>,
    /// `nam.fnt`, the standardised family name.
    pub family_name_std: Option<String>,
    /// `nam.gn`, the given name as printed.
    pub given_name: Option<String>,
    /// `nam.gnt`, the standardised given name.
    pub given_name_std: Option<String>,
    /// `dob`, the date of birth: `YYYY-MM-DD`, `YYYY-MM`, `YYYY` or empty.
    pub date_of_birth: Option<String>,
}

impl std::fmt::Debug for Person {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Person { <redacted> }")
    }
}

fn field<'a>(map: &'a Value, name: &str) -> Option<&'a Value> {
    map.as_map()?
        .iter()
        .find(|(k, _)| k.as_text() == Some(name))
        .map(|(_, v)| v)
}

fn text(map: &Value, name: &str) -> Option<String> {
    field(map, name).and_then(Value::as_text).map(str::to_owned)
}

impl Claims {
    /// The holder named in the DGC.
    pub fn person(&self) -> Person {
        let nam = field(&self.dgc, "nam");
        let name = |key: &str| nam.and_then(|n| text(n, key));
        Person {
            family_name: name("fn"),
            family_name_std: name("fnt"),
            given_name: name("gn"),
            given_name_std: name("gnt"),
            date_of_birth: text(&self.dgc, "dob"),
        }
    }

    /// The DGC schema version (`ver`), e.g. `1.3.0`.
    pub fn version(&self) -> Option<&str> {
        field(&self.dgc, "ver").and_then(Value::as_text)
    }

    /// The certificate kind, when exactly one of `v`, `t` and `r` is present.
    pub fn kind(&self) -> Option<CertificateKind> {
        let present: Vec<CertificateKind> = [
            ("v", CertificateKind::Vaccination),
            ("t", CertificateKind::Test),
            ("r", CertificateKind::Recovery),
        ]
        .into_iter()
        .filter(|(key, _)| field(&self.dgc, key).is_some())
        .map(|(_, kind)| kind)
        .collect();
        match present[..] {
            [kind] => Some(kind),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cbor(value: &Value) -> Vec<u8> {
        let mut out = Vec::new();
        ciborium::ser::into_writer(value, &mut out).unwrap();
        out
    }

    fn t(s: &str) -> Value {
        Value::Text(s.into())
    }

    fn i(n: i64) -> Value {
        Value::Integer(n.into())
    }

    fn dgc() -> Value {
        Value::Map(vec![
            (t("ver"), t("1.3.0")),
            (
                t("nam"),
                Value::Map(vec![
                    (t("fn"), t("Musterfrau")),
                    (t("fnt"), t("MUSTERFRAU")),
                    (t("gnt"), t("ERIKA")),
                ]),
            ),
            (t("dob"), t("1964-08-12")),
            (t("v"), Value::Array(vec![Value::Map(vec![])])),
        ])
    }

    fn claims(extra: Vec<(Value, Value)>, hcert: Value) -> Value {
        let mut entries = vec![
            (i(CLAIM_ISSUER), t("AT")),
            (i(CLAIM_ISSUED_AT), i(1_620_000_000)),
            (i(CLAIM_EXPIRES), Value::Float(1_650_000_000.5)),
            (i(CLAIM_HCERT), hcert),
        ];
        entries.extend(extra);
        Value::Map(entries)
    }

    #[test]
    fn parses_claims_and_person() {
        let hcert = Value::Map(vec![(i(1), dgc())]);
        let parsed = parse(&cbor(&claims(vec![(t("x"), i(1))], hcert)), 16).unwrap();
        assert_eq!(parsed.issuer.as_deref(), Some("AT"));
        assert_eq!(parsed.issued_at, Some(1_620_000_000));
        assert_eq!(parsed.expires, Some(1_650_000_000));
        assert_eq!(parsed.version(), Some("1.3.0"));
        assert_eq!(parsed.kind(), Some(CertificateKind::Vaccination));
        let person = parsed.person();
        assert_eq!(person.family_name.as_deref(), Some("Musterfrau"));
        assert_eq!(person.family_name_std.as_deref(), Some("MUSTERFRAU"));
        assert_eq!(person.given_name, None);
        assert_eq!(person.given_name_std.as_deref(), Some("ERIKA"));
        assert_eq!(person.date_of_birth.as_deref(), Some("1964-08-12"));
        let debug = format!("{person:?} {parsed:?}");
        assert!(
            !debug.contains("MUSTER") && !debug.contains("1964"),
            "{debug}"
        );
    }

    #[test]
    fn refusals() {
        let good_hcert = || Value::Map(vec![(i(1), dgc())]);
        let table: Vec<(Value, &str)> = vec![
            (
                Value::Array(vec![]),
                "CWT claims: payload is not a CBOR map",
            ),
            (claims(vec![], i(0)), "CWT claims: no hcert (-260) map"),
            (
                Value::Map(vec![(i(1), t("AT"))]),
                "CWT claims: no hcert (-260) map",
            ),
            (
                claims(vec![], Value::Map(vec![(i(2), dgc())])),
                "CWT claims: hcert holds no EU DGC (key 1)",
            ),
            (
                claims(vec![], Value::Map(vec![(i(1), t("{}"))])),
                "CWT claims: the EU DGC is not a map",
            ),
            (
                claims(vec![], Value::Map(vec![(i(1), dgc()), (i(1), dgc())])),
                "CWT claims: duplicate claim key",
            ),
            (
                claims(vec![(i(CLAIM_ISSUER), t("DE"))], good_hcert()),
                "CWT claims: duplicate claim key",
            ),
            (
                claims(vec![(Value::Bytes(vec![]), i(0))], good_hcert()),
                "CWT claims: claim key is neither integer nor text",
            ),
            (
                Value::Map(vec![
                    (i(CLAIM_ISSUER), i(1)),
                    (i(CLAIM_HCERT), good_hcert()),
                ]),
                "CWT claims: iss is not text",
            ),
            (
                Value::Map(vec![
                    (i(CLAIM_ISSUED_AT), t("2021")),
                    (i(CLAIM_HCERT), good_hcert()),
                ]),
                "CWT claims: iat is not a numeric date",
            ),
            (
                Value::Map(vec![
                    (i(CLAIM_EXPIRES), Value::Float(f64::NAN)),
                    (i(CLAIM_HCERT), good_hcert()),
                ]),
                "CWT claims: exp is not a numeric date",
            ),
        ];
        for (value, message) in table {
            assert_eq!(parse(&cbor(&value), 16).unwrap_err().to_string(), message);
        }
        assert_eq!(
            parse(&[0xa0, 0x00], 16).unwrap_err().to_string(),
            "CWT claims: trailing bytes after the CBOR item"
        );
        assert_eq!(
            parse(&[0xbf], 16).unwrap_err().to_string(),
            "CWT claims: truncated CBOR"
        );
    }

    #[test]
    fn kind_needs_exactly_one_list() {
        let with = |keys: &[&str]| Claims {
            issuer: None,
            issued_at: None,
            expires: None,
            dgc: Value::Map(keys.iter().map(|k| (t(k), Value::Array(vec![]))).collect()),
        };
        assert_eq!(with(&["t"]).kind(), Some(CertificateKind::Test));
        assert_eq!(with(&["r"]).kind(), Some(CertificateKind::Recovery));
        assert_eq!(with(&["v", "t"]).kind(), None);
        assert_eq!(with(&[]).kind(), None);
        assert_eq!(with(&[]).person(), Person::default());
    }
}
