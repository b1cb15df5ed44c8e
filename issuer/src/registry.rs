//! The registry's input forms: events as short texts (the core's [`parse_event`]:
//! `comirnaty:1/2:2021-06-20`, `test:pcr:negative:2021-12-13T08:00:00Z`, `recovery:2021-11-01`),
//! how events group into passes, and the CSV import (`code,name,birth_date,events` with events
//! separated by `;`).

use chrono::NaiveDate;
pub use vaxpass::model::{format_event, parse_event};
use vaxpass::{Event, PassData, Person};

use vaxpass::enrolment_code::EnrolmentCode;

use crate::identity::CodeKey;
use crate::store::NewCitizen;

/// Groups events into passes: all doses on one vaccination pass, each test and each recovery on
/// its own pass (so a verifier judges each on its own).
pub fn group_into_passes(events: Vec<Event>) -> Vec<Vec<Event>> {
    let mut doses = Vec::new();
    let mut others = Vec::new();
    for event in events {
        match event {
            Event::Vaccination(_) => doses.push(event),
            other => others.push(vec![other]),
        }
    }
    let mut passes = Vec::new();
    if !doses.is_empty() {
        passes.push(doses);
    }
    passes.extend(others);
    passes
}

/// Builds a registry entry, refusing what an issuer must not sign. The code must be in the
/// enrolment-code form with a matching check symbol; only its keyed hash is kept.
pub fn new_citizen(
    key: &CodeKey,
    code: &str,
    name: &str,
    birth_date: &str,
    events: Vec<Event>,
) -> Result<NewCitizen, String> {
    let code = EnrolmentCode::parse(code).map_err(|e| e.to_string())?;
    let person = Person {
        name: name.trim().to_owned(),
        date_of_birth: NaiveDate::parse_from_str(birth_date.trim(), "%Y-%m-%d")
            .map_err(|_| "dates are YYYY-MM-DD")?,
    };
    let code = key.hash(&code, person.date_of_birth);
    let passes = group_into_passes(events);
    if passes.is_empty() || passes.len() > vaxpass::enrolment::MAX_ISSUED {
        return Err(format!(
            "a citizen needs 1 to {} passes",
            vaxpass::enrolment::MAX_ISSUED
        ));
    }
    for events in &passes {
        PassData {
            person: person.clone(),
            events: events.clone(),
        }
        .validate()
        .map_err(|e| e.to_string())?;
    }
    Ok(NewCitizen {
        person,
        code,
        subject: None,
        passes,
    })
}

/// Splits one CSV line (RFC 4180 quoting, no line breaks inside fields).
pub fn csv_fields(line: &str) -> Result<Vec<String>, &'static str> {
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut chars = line.chars().peekable();
    let mut quoted = false;
    let mut was_quoted = false;
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') if field.is_empty() && !was_quoted => {
                quoted = true;
                was_quoted = true;
            }
            (false, ',') => {
                fields.push(std::mem::take(&mut field));
                was_quoted = false;
            }
            (false, '"') => return Err("a quote inside an unquoted field"),
            (false, c) => field.push(c),
        }
    }
    if quoted {
        return Err("an unterminated quoted field");
    }
    fields.push(field);
    Ok(fields)
}

/// Parses one CSV record `code,name,birth_date,events`. `None` for a header or blank line.
pub fn csv_record(key: &CodeKey, line: &str) -> Result<Option<NewCitizen>, String> {
    let line = line.trim_end_matches(['\r', '\n']);
    if line.trim().is_empty() {
        return Ok(None);
    }
    let fields = csv_fields(line)?;
    if fields.first().map(|f| f.trim()) == Some("code") {
        return Ok(None);
    }
    let [code, name, birth_date, events] = fields.as_slice() else {
        return Err("expected 4 fields: code,name,birth_date,events".into());
    };
    let events = events
        .split(';')
        .filter(|e| !e.trim().is_empty())
        .map(parse_event)
        .collect::<Result<Vec<_>, _>>()?;
    new_citizen(key, code, name, birth_date, events).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_texts_round_trip() {
        for text in [
            "comirnaty:1/2:2021-06-20",
            "jcovden:1/1:2021-07-01",
            "skycovione:3/2:2022-09-01",
            "test:pcr:negative:2021-12-13T08:00:00Z",
            "test:rat:positive:2021-12-13T08:00:00Z",
            "recovery:2021-11-01",
        ] {
            let event = parse_event(text).unwrap();
            assert_eq!(format_event(&event), text);
        }
        for bad in [
            "",
            "pfizer:1/2:2021-06-20",
            "comirnaty:0/2:2021-06-20",
            "comirnaty:1-2:2021-06-20",
            "comirnaty:1/2:20210620",
            "test:pcr:maybe:2021-12-13T08:00:00Z",
            "recovery:yesterday",
        ] {
            assert!(parse_event(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn csv_quoting_and_records() {
        assert_eq!(
            csv_fields(r#"a,"b,c","d""e",,"#).unwrap(),
            vec!["a", "b,c", "d\"e", "", ""]
        );
        assert!(csv_fields(r#"a,"b"#).is_err());
        let key = CodeKey::from_bytes([1; 32]);
        assert!(csv_record(&key, "code,name,birth_date,events")
            .unwrap()
            .is_none());
        let code = EnrolmentCode::generate();
        let c = csv_record(
            &key,
            &format!("{code},\"Kim, Minjun\",1985-03-14,comirnaty:1/2:2021-06-20;comirnaty:2/2:2021-07-20;recovery:2021-11-01\r\n"),
        )
        .unwrap()
        .unwrap();
        let born = chrono::NaiveDate::from_ymd_opt(1985, 3, 14).unwrap();
        assert_eq!(c.code, key.hash(&code, born));
        assert_eq!(c.person.name, "Kim, Minjun");
        assert_eq!(c.passes.len(), 2);
        assert_eq!(c.passes[0].len(), 2);
        assert!(csv_record(&key, &format!("{code},name,1985-03-14")).is_err());
        assert!(csv_record(
            &key,
            &format!("{code},,1985-03-14,comirnaty:1/2:2021-06-20")
        )
        .is_err());
        // Old-style and mistyped codes are refused at import, before anything is stored.
        let old = "KR-000001-0001,Kim,1985-03-14,comirnaty:1/2:2021-06-20";
        assert!(csv_record(&key, old).is_err());
    }
}
