//! Minting a GP Connect access token: the unsigned JWT a consumer sends in
//! `Authorization: Bearer …` (appointments digest §3, accessrecord §1.3).
//!
//! For tests, demonstrations and the `gpconnect token` command: GP Connect
//! tokens are unsigned (`alg: none`, empty signature), so anyone can make
//! one, and a provider trusts them only because the Spine Security Proxy
//! vouches for the consumer. Never use this to stand in for a real user.
//!
//! ```
//! use gpconnect_core::checks::headers::Interaction;
//! use gpconnect_core::engine::token::TokenSpec;
//!
//! let iat = jiff::Timestamp::from_second(1_700_000_000)?;
//! let spec = TokenSpec::for_interaction(Interaction::BookAppointment, "A1001", iat);
//! let header_value = spec.bearer()?; // "Bearer eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJ…."
//! assert!(header_value.starts_with("Bearer ") && header_value.ends_with('.'));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! [`TokenSpec::encode`] checks its own output with the provider-side
//! validator ([`validate_bearer`]) at `iat`, so it never hands out a token a
//! GP Connect provider would reject for its shape; `exp` is always
//! `iat + 300` (§3.2). To build a deliberately broken token (tests), edit
//! [`TokenSpec::claims`] and encode it with [`unsigned_jwt`].

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jiff::Timestamp;
use serde_json::{Map, Value, json};

use crate::checks::format::FhirVersion;
use crate::checks::headers::Interaction;
use crate::checks::jwt::{
    JwtContext, JwtProfile, REASON_DIRECT_CARE, Scope, TOKEN_LIFETIME_SECS, validate_bearer,
};
use crate::error::Error;

/// `requesting_organization`: the organisation the user works for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrganizationClaim {
    /// `Organization.id` (required by the DSTU2 profile; optional in STU3).
    pub id: Option<String>,
    /// The ODS code.
    pub ods_code: String,
    /// The organisation's name.
    pub name: String,
}

/// `requesting_practitioner`: the logged-on user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PractitionerClaim {
    /// `Practitioner.id`, also the token's `sub`.
    pub id: String,
    /// Smartcard SDS user id, or `UNK`.
    pub sds_user_id: String,
    /// SDS role profile id, or `UNK`; `None` leaves the identifier out.
    pub role_profile_id: Option<String>,
    /// Family name.
    pub family: String,
    /// Given names.
    pub given: Vec<String>,
    /// Prefixes (`Dr`).
    pub prefix: Vec<String>,
    /// DSTU2 `practitionerRole` SDS job role code (e.g. `R8000`); ignored in STU3.
    pub job_role_code: Option<String>,
}

/// `requesting_device`: the consumer system.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceClaim {
    /// `Device.id` (required by the DSTU2 profile; optional in STU3).
    pub id: Option<String>,
    /// Identifier system (a consumer-owned URL).
    pub system: String,
    /// Identifier value.
    pub value: String,
    /// Product name.
    pub model: String,
    /// Product version.
    pub version: String,
}

/// DSTU2 `requested_record`: whose record is asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecordClaim {
    /// A patient, by NHS number (getcarerecord; must match the body's
    /// `patientNHSNumber`).
    Patient {
        /// The NHS number.
        nhs_number: String,
    },
    /// An organisation, by ODS code (organisation-scoped calls such as the
    /// DSTU2 `metadata`).
    Organization {
        /// The ODS code.
        ods_code: String,
    },
}

/// Everything a token says. Fields are public: start from
/// [`TokenSpec::new`] or [`TokenSpec::for_interaction`] and change what
/// differs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenSpec {
    /// Which edition's claim shapes and identifier systems to use.
    pub profile: JwtProfile,
    /// `requested_scope`.
    pub scope: Scope,
    /// `iat`, seconds since the Unix epoch; `exp` is `iat + 300`.
    pub issued_at: i64,
    /// `iss`: the consumer's endpoint URL.
    pub issuer: String,
    /// `aud`: the provider's service root (STU3) or the fixed token URL (DSTU2).
    pub audience: String,
    /// `requesting_organization`.
    pub organization: OrganizationClaim,
    /// `requesting_practitioner` (and `sub`).
    pub practitioner: PractitionerClaim,
    /// `requesting_device`.
    pub device: DeviceClaim,
    /// `requested_record`: required by the DSTU2 profile, never sent in STU3.
    pub requested_record: Option<RecordClaim>,
}

impl TokenSpec {
    /// A token of `profile` for `scope`, issued at `issued_at` by a user of
    /// the organisation `requesting_ods`, with the spec's example values for
    /// everything else (issuer, user, device; appointments §3.2, accessrecord
    /// §1.3). A DSTU2 token also needs a requested record
    /// ([`TokenSpec::with_requested_patient`] /
    /// [`TokenSpec::with_requested_organization`]).
    pub fn new(
        profile: JwtProfile,
        scope: Scope,
        requesting_ods: &str,
        issued_at: Timestamp,
    ) -> TokenSpec {
        let dstu2 = profile == JwtProfile::AccessRecordHtml;
        TokenSpec {
            profile,
            scope,
            issued_at: issued_at.as_second(),
            issuer: "https://consumersupplier.thirdparty.nhs.uk/".to_owned(),
            audience: profile
                .default_audience()
                .unwrap_or("https://providersupplier.thirdparty.nhs.uk/GP0001/STU3/1")
                .to_owned(),
            organization: OrganizationClaim {
                id: dstu2.then(|| "79600119-ebaf-4362-bb89-d473a33b1675".to_owned()),
                ods_code: requesting_ods.to_owned(),
                name: "Requesting Organisation".to_owned(),
            },
            practitioner: PractitionerClaim {
                id: "1".to_owned(),
                sds_user_id: "111222333444".to_owned(),
                role_profile_id: Some("444555666777".to_owned()),
                family: "Jones".to_owned(),
                given: vec!["Claire".to_owned()],
                prefix: vec!["Dr".to_owned()],
                job_role_code: dstu2.then(|| "R8000".to_owned()),
            },
            device: DeviceClaim {
                id: dstu2.then(|| "c4c8d038-913a-490c-9682-47047f4155fb".to_owned()),
                system: "https://consumersupplier.com/Id/device-identifier".to_owned(),
                value: "CONS-APP-4".to_owned(),
                model: "Consumer product name".to_owned(),
                version: "5.3.0".to_owned(),
            },
            requested_record: None,
        }
    }

    /// [`TokenSpec::new`] with the profile of `interaction`'s FHIR version
    /// and the scope it requires (digest §1.1).
    pub fn for_interaction(
        interaction: Interaction,
        requesting_ods: &str,
        issued_at: Timestamp,
    ) -> TokenSpec {
        let profile = match interaction.fhir_version() {
            FhirVersion::Stu3 => JwtProfile::Appointments,
            FhirVersion::Dstu2 => JwtProfile::AccessRecordHtml,
        };
        TokenSpec::new(
            profile,
            interaction.required_scope(),
            requesting_ods,
            issued_at,
        )
    }

    /// Sets `requested_record` to the patient with `nhs_number` (DSTU2).
    pub fn with_requested_patient(mut self, nhs_number: &str) -> TokenSpec {
        self.requested_record = Some(RecordClaim::Patient {
            nhs_number: nhs_number.to_owned(),
        });
        self
    }

    /// Sets `requested_record` to the organisation `ods_code` (DSTU2).
    pub fn with_requested_organization(mut self, ods_code: &str) -> TokenSpec {
        self.requested_record = Some(RecordClaim::Organization {
            ods_code: ods_code.to_owned(),
        });
        self
    }

    /// Sets `aud`.
    pub fn with_audience(mut self, audience: &str) -> TokenSpec {
        self.audience = audience.to_owned();
        self
    }

    /// The claims set, as JSON. Unlike [`TokenSpec::encode`] this never
    /// fails, so tests can edit it into a broken token for [`unsigned_jwt`].
    pub fn claims(&self) -> Value {
        let p = self.profile;
        let dstu2 = p == JwtProfile::AccessRecordHtml;
        let ident = |system: &str, value: &str| json!({"system": system, "value": value});
        let with_id = |mut resource: Map<String, Value>, id: &Option<String>| {
            if let Some(id) = id {
                resource.insert("id".to_owned(), Value::String(id.clone()));
            }
            Value::Object(resource)
        };

        let d = &self.device;
        let mut device = Map::new();
        device.insert("resourceType".to_owned(), json!("Device"));
        device.insert("identifier".to_owned(), json!([ident(&d.system, &d.value)]));
        device.insert("model".to_owned(), json!(d.model));
        device.insert("version".to_owned(), json!(d.version));

        let o = &self.organization;
        let mut organization = Map::new();
        organization.insert("resourceType".to_owned(), json!("Organization"));
        organization.insert(
            "identifier".to_owned(),
            json!([ident(p.ods_code_system(), &o.ods_code)]),
        );
        organization.insert("name".to_owned(), json!(o.name));

        let who = &self.practitioner;
        let mut identifiers = vec![ident(p.sds_user_id_system(), &who.sds_user_id)];
        if let Some(role) = &who.role_profile_id {
            identifiers.push(ident(p.sds_role_profile_id_system(), role));
        }
        let name = if dstu2 {
            json!({"family": [who.family], "given": who.given, "prefix": who.prefix})
        } else {
            json!([{"family": who.family, "given": who.given, "prefix": who.prefix}])
        };
        let mut practitioner = json!({
            "resourceType": "Practitioner",
            "id": who.id,
            "name": name,
            "identifier": identifiers,
        });
        if let (true, Some(code)) = (dstu2, &who.job_role_code) {
            practitioner["practitionerRole"] = json!([{"role": {"coding": [
                {"system": p.sds_job_role_system(), "code": code}
            ]}}]);
        }

        let mut claims = json!({
            "iss": self.issuer,
            "sub": who.id,
            "aud": self.audience,
            "exp": self.issued_at.saturating_add(TOKEN_LIFETIME_SECS),
            "iat": self.issued_at,
            "reason_for_request": REASON_DIRECT_CARE,
            "requested_scope": self.scope.as_str(),
            "requesting_device": with_id(device, &d.id),
            "requesting_organization": with_id(organization, &o.id),
            "requesting_practitioner": practitioner,
        });
        match (&self.requested_record, dstu2) {
            (Some(RecordClaim::Patient { nhs_number }), true) => {
                claims["requested_record"] = json!({
                    "resourceType": "Patient",
                    "identifier": [ident(p.nhs_number_system(), nhs_number)],
                });
            }
            (Some(RecordClaim::Organization { ods_code }), true) => {
                claims["requested_record"] = json!({
                    "resourceType": "Organization",
                    "identifier": [ident(p.ods_code_system(), ods_code)],
                });
            }
            _ => {}
        }
        claims
    }

    /// The token (`header.payload.`), checked with the provider-side
    /// validator at `iat` against this spec's profile and scope.
    ///
    /// # Errors
    /// The validator's 400/422 [`Error`] when the spec cannot make a valid
    /// token: e.g. a blank name or ODS code, a DSTU2 token without a
    /// requested record, or a patient scope naming an organisation.
    pub fn encode(&self) -> Result<String, Error> {
        let token = unsigned_jwt(&self.claims());
        let at = Timestamp::from_second(self.issued_at).map_err(|e| {
            Error::bad_request(format!("iat {} is out of range: {e}", self.issued_at))
        })?;
        let ctx = JwtContext::new(self.profile, self.scope);
        validate_bearer(&token, &ctx, at)?;
        Ok(token)
    }

    /// The `Authorization` header value: `Bearer {token}`.
    ///
    /// # Errors
    /// As [`TokenSpec::encode`].
    pub fn bearer(&self) -> Result<String, Error> {
        Ok(format!("Bearer {}", self.encode()?))
    }
}

/// `claims` as an unsigned JWT: base64url (unpadded) of
/// `{"alg":"none","typ":"JWT"}`, `.`, base64url of the claims, and an empty
/// signature (so the token ends with `.`; §3.1). Not validated.
pub fn unsigned_jwt(claims: &Value) -> String {
    let header = json!({"alg": "none", "typ": "JWT"});
    format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::SpineCode;

    fn at() -> Timestamp {
        Timestamp::from_second(1_700_000_000).expect("ts")
    }

    #[test]
    fn every_interaction_gets_a_token_its_provider_accepts() {
        for i in Interaction::ALL {
            let mut spec = TokenSpec::for_interaction(i, "A1001", at());
            if spec.profile == JwtProfile::AccessRecordHtml {
                spec = match spec.scope {
                    Scope::PatientRead => spec.with_requested_patient("9658218873"),
                    _ => spec.with_requested_organization("A00001"),
                };
            }
            let token = spec.encode().unwrap_or_else(|e| panic!("{i:?}: {e}"));
            assert!(token.ends_with('.'), "unsigned: {token}");
            let profile = spec.profile;
            let claims =
                validate_bearer(&token, &JwtContext::new(profile, i.required_scope()), at())
                    .expect("valid");
            assert_eq!(claims.organization.ods_code, "A1001");
            assert_eq!(claims.exp - claims.iat, 300);
            assert_eq!(claims.sub, claims.practitioner.id);
        }
    }

    #[test]
    fn dstu2_patient_token_carries_the_requested_nhs_number() {
        let spec = TokenSpec::for_interaction(Interaction::GetCareRecord, "A1001", at())
            .with_requested_patient("9658218873");
        let claims = validate_bearer(
            &spec.encode().expect("token"),
            &JwtContext::new(JwtProfile::AccessRecordHtml, Scope::PatientRead),
            at(),
        )
        .expect("valid");
        assert_eq!(claims.requested_nhs_number(), Some("9658218873"));
        assert_eq!(claims.practitioner.job_role_code.as_deref(), Some("R8000"));
    }

    #[test]
    fn a_spec_that_cannot_make_a_valid_token_is_refused() {
        let no_record = TokenSpec::for_interaction(Interaction::GetCareRecord, "A1001", at());
        let e = no_record.encode().expect_err("requested_record missing");
        assert_eq!(e.code(), SpineCode::BadRequest);

        let mut blank = TokenSpec::for_interaction(Interaction::ReadPatient, "A1001", at());
        blank.organization.ods_code = " ".to_owned();
        assert_eq!(
            blank.encode().expect_err("blank ODS").code(),
            SpineCode::InvalidResource
        );

        let wrong = TokenSpec::for_interaction(Interaction::GetCareRecord, "A1001", at())
            .with_requested_organization("A00001");
        assert!(
            wrong.encode().is_err(),
            "patient scope names an organisation"
        );
    }

    #[test]
    fn bearer_is_the_authorization_value() {
        let spec = TokenSpec::for_interaction(Interaction::GetCapabilityStatement, "A1001", at());
        let bearer = spec.bearer().expect("bearer");
        assert_eq!(bearer, format!("Bearer {}", spec.encode().expect("token")));
    }

    #[test]
    fn unsigned_jwt_has_the_none_header_and_an_empty_signature() {
        let token = unsigned_jwt(&json!({"a": 1}));
        let parts: Vec<&str> = token.split('.').collect();
        assert_eq!(parts.len(), 3);
        assert_eq!(parts[2], "");
        let header = URL_SAFE_NO_PAD.decode(parts[0]).expect("b64");
        assert_eq!(
            serde_json::from_slice::<Value>(&header).expect("json"),
            json!({"alg": "none", "typ": "JWT"})
        );
    }
}
