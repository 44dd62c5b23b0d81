use super::*;

fn validate(input: &TypedValues, offers: &Offers, errors: &mut FieldErrors) -> Option<ValidFields> {
    let domain = check_domain(input, errors);
    validate_fields(input, domain, offers, errors)
}

fn valid_input() -> TypedValues {
    TypedValues {
        domain: "Example.com".into(),
        full_name: "  Anna   Muster ".into(),
        email: "anna@example.org".into(),
        phone: "+41 44 000 00 00".into(),
        relation: "holder".into(),
        consent: true,
        ..Default::default()
    }
}

#[test]
fn valid_fields_are_normalised() {
    let mut errors = FieldErrors::new();
    let fields = validate(&valid_input(), &Offers::ALL, &mut errors).unwrap();
    assert!(errors.is_empty());
    assert_eq!(fields.domain, "example.com");
    assert_eq!(fields.full_name, "Anna Muster");
    assert_eq!(fields.relation, RequesterRelation::Holder);
}

#[test]
fn every_bad_field_gets_its_own_message() {
    let input = TypedValues {
        domain: "not a domain".into(),
        full_name: " ".into(),
        email: "anna".into(),
        phone: "call me maybe".into(),
        relation: "cousin".into(),
        consent: false,
        ..Default::default()
    };
    let mut errors = FieldErrors::new();
    assert!(validate(&input, &Offers::ALL, &mut errors).is_none());
    let fields: Vec<_> = errors.keys().copied().collect();
    assert_eq!(
        fields,
        [
            Field::Domain,
            Field::Relation,
            Field::FullName,
            Field::Email,
            Field::Phone,
            Field::Consent
        ],
        "in the order a person meets them"
    );
}

#[test]
fn a_signatory_gives_a_uid_with_a_right_check_digit() {
    let signatory = |uid: &str| TypedValues {
        relation: "signatory".into(),
        company_uid: uid.into(),
        ..valid_input()
    };
    let mut errors = FieldErrors::new();
    let fields = validate(&signatory("che 123 456 788"), &Offers::ALL, &mut errors).unwrap();
    assert_eq!(fields.company_uid.as_deref(), Some("CHE-123.456.788"));
    for (uid, problem) in [
        ("CHE-123.456.789", FieldProblem::UidInvalid),
        ("", FieldProblem::UidMissing),
    ] {
        let mut errors = FieldErrors::new();
        assert!(validate(&signatory(uid), &Offers::ALL, &mut errors).is_none());
        assert_eq!(errors.get(&Field::CompanyUid), Some(&problem));
    }
}

#[test]
fn a_nameserver_change_lists_its_hosts_and_needs_a_registry_command() {
    let change = |hosts: &str| TypedValues {
        kind: "nameservers".into(),
        nameservers: hosts.into(),
        ..valid_input()
    };
    let mut errors = FieldErrors::new();
    let fields = validate(
        &change("ns1.new.ch, NS2.new.ch."),
        &Offers::ALL,
        &mut errors,
    )
    .unwrap();
    assert_eq!(fields.kind, RequestKind::Nameservers);
    assert_eq!(
        fields.nameservers.as_deref(),
        Some("ns1.new.ch\nns2.new.ch")
    );
    let mut errors = FieldErrors::new();
    assert!(validate(&change("ns1.new.ch"), &Offers::ALL, &mut errors).is_none());
    assert!(matches!(
        errors.get(&Field::Nameservers),
        Some(FieldProblem::Nameservers(_))
    ));
    let mut errors = FieldErrors::new();
    assert!(validate(
        &change("ns1.new.ch ns2.new.ch"),
        &Offers {
            nameservers: false,
            ..Offers::ALL
        },
        &mut errors
    )
    .is_none());
    assert_eq!(
        errors.get(&Field::Kind),
        Some(&FieldProblem::NameserversNotOffered)
    );
    let mut errors = FieldErrors::new();
    let odd = TypedValues {
        kind: "dns".into(),
        ..valid_input()
    };
    assert!(validate(&odd, &Offers::ALL, &mut errors).is_none());
    assert_eq!(errors.get(&Field::Kind), Some(&FieldProblem::KindInvalid));
    let mut errors = FieldErrors::new();
    let plain = validate(&valid_input(), &Offers::ALL, &mut errors).unwrap();
    assert_eq!(plain.kind, RequestKind::TransferCode);
    assert_eq!(plain.nameservers, None);
}

#[test]
fn only_a_representative_asks_the_holder_with_a_name_and_an_address() {
    let asking = |relation: &str, name: &str, email: &str| TypedValues {
        relation: relation.into(),
        holder_verifies: true,
        holder_name: name.into(),
        holder_email: email.into(),
        ..valid_input()
    };
    let mut errors = FieldErrors::new();
    let fields = validate(
        &asking("representative", " Hans  Halter", "hans@example.net"),
        &Offers::ALL,
        &mut errors,
    )
    .unwrap();
    assert_eq!(
        fields.holder,
        Some(("Hans Halter".into(), "hans@example.net".into()))
    );
    let mut errors = FieldErrors::new();
    assert!(validate(
        &asking("holder", "Hans", "h@example.net"),
        &Offers::ALL,
        &mut errors
    )
    .is_none());
    assert_eq!(
        errors.get(&Field::HolderVerifies),
        Some(&FieldProblem::HolderVerifiesNotForRelation)
    );
    let mut errors = FieldErrors::new();
    assert!(validate(
        &asking("representative", "", "hans"),
        &Offers::ALL,
        &mut errors
    )
    .is_none());
    assert_eq!(
        errors.get(&Field::HolderName),
        Some(&FieldProblem::HolderNameMissing)
    );
    assert_eq!(
        errors.get(&Field::HolderEmail),
        Some(&FieldProblem::HolderEmailInvalid)
    );
}

#[test]
fn without_mail_the_holder_cannot_be_asked_to_verify() {
    let input = TypedValues {
        relation: "representative".into(),
        holder_verifies: true,
        holder_name: "Hans Halter".into(),
        holder_email: "hans@example.net".into(),
        ..valid_input()
    };
    let no_mail = Offers {
        holder_verification: false,
        ..Offers::ALL
    };
    let mut errors = FieldErrors::new();
    assert!(validate(&input, &no_mail, &mut errors).is_none());
    assert_eq!(
        errors.get(&Field::HolderVerifies),
        Some(&FieldProblem::HolderVerificationNeedsMail)
    );
}

#[test]
fn one_bad_field_is_enough_to_refuse() {
    for change in [
        |i: &mut TypedValues| i.consent = false,
        |i: &mut TypedValues| i.phone = "abc".into(),
        |i: &mut TypedValues| i.email = "x".into(),
    ] {
        let mut input = valid_input();
        change(&mut input);
        let mut errors = FieldErrors::new();
        assert!(validate(&input, &Offers::ALL, &mut errors).is_none());
        assert_eq!(errors.len(), 1);
    }
}

#[test]
fn the_kind_of_identity_document_is_one_of_three_or_unsaid() {
    for (typed, expected) in [
        ("", None),
        ("passport", Some(IdDocumentType::Passport)),
        (" identity_card ", Some(IdDocumentType::IdentityCard)),
        ("other", Some(IdDocumentType::Other)),
    ] {
        let input = TypedValues {
            id_document_type: typed.into(),
            ..valid_input()
        };
        let mut errors = FieldErrors::new();
        let fields = validate(&input, &Offers::ALL, &mut errors);
        assert!(errors.is_empty(), "{typed}: {errors:?}");
        assert_eq!(fields.unwrap().id_document_type, expected);
    }
    let input = TypedValues {
        id_document_type: "library card".into(),
        ..valid_input()
    };
    let mut errors = FieldErrors::new();
    assert!(validate(&input, &Offers::ALL, &mut errors).is_none());
    assert_eq!(
        errors.get(&Field::IdDocumentType),
        Some(&FieldProblem::IdDocumentTypeInvalid)
    );
}
