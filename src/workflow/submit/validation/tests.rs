use super::*;

/// The fields of `input`, which must pass with no problem.
fn accepted(input: &TypedValues, offers: &Offers) -> ValidFields {
    let mut errors = FieldErrors::new();
    let domain = check_domain(input, &mut errors);
    let fields = validate_fields(input, domain, offers, &mut errors);
    assert!(errors.is_empty(), "{errors:?}");
    fields.expect("valid fields")
}

/// The problems of `input`, which must be refused.
fn refused(input: &TypedValues, offers: &Offers) -> FieldErrors {
    let mut errors = FieldErrors::new();
    let domain = check_domain(input, &mut errors);
    assert!(validate_fields(input, domain, offers, &mut errors).is_none());
    assert!(!errors.is_empty());
    errors
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
    let fields = accepted(&valid_input(), &Offers::ALL);
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
    let errors = refused(&input, &Offers::ALL);
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
    let fields = accepted(&signatory("che 123 456 788"), &Offers::ALL);
    assert_eq!(fields.company_uid.as_deref(), Some("CHE-123.456.788"));
    for (uid, problem) in [
        ("CHE-123.456.789", FieldProblem::UidInvalid),
        ("", FieldProblem::UidMissing),
    ] {
        let errors = refused(&signatory(uid), &Offers::ALL);
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
    let fields = accepted(&change("ns1.new.ch, NS2.new.ch."), &Offers::ALL);
    assert_eq!(fields.kind, RequestKind::Nameservers);
    assert_eq!(
        fields.nameservers.as_deref(),
        Some("ns1.new.ch\nns2.new.ch")
    );
    let errors = refused(&change("ns1.new.ch"), &Offers::ALL);
    assert!(matches!(
        errors.get(&Field::Nameservers),
        Some(FieldProblem::Nameservers(_))
    ));
    let no_registry = Offers {
        nameservers: false,
        ..Offers::ALL
    };
    let errors = refused(&change("ns1.new.ch ns2.new.ch"), &no_registry);
    assert_eq!(
        errors.get(&Field::Kind),
        Some(&FieldProblem::NameserversNotOffered)
    );
    let odd = TypedValues {
        kind: "dns".into(),
        ..valid_input()
    };
    let errors = refused(&odd, &Offers::ALL);
    assert_eq!(errors.get(&Field::Kind), Some(&FieldProblem::KindInvalid));
    let plain = accepted(&valid_input(), &Offers::ALL);
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
    let representative = asking("representative", " Hans  Halter", "hans@example.net");
    let fields = accepted(&representative, &Offers::ALL);
    assert_eq!(
        fields.holder,
        Some(("Hans Halter".into(), "hans@example.net".into()))
    );
    let errors = refused(&asking("holder", "Hans", "h@example.net"), &Offers::ALL);
    assert_eq!(
        errors.get(&Field::HolderVerifies),
        Some(&FieldProblem::HolderVerifiesNotForRelation)
    );
    let errors = refused(&asking("representative", "", "hans"), &Offers::ALL);
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
    let errors = refused(&input, &no_mail);
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
        assert_eq!(refused(&input, &Offers::ALL).len(), 1);
    }
}

#[test]
fn the_kind_of_identity_document_is_one_of_three_or_unsaid() {
    let saying = |typed: &str| TypedValues {
        id_document_type: typed.into(),
        ..valid_input()
    };
    for (typed, expected) in [
        ("", None),
        ("passport", Some(IdDocumentType::Passport)),
        (" identity_card ", Some(IdDocumentType::IdentityCard)),
        ("other", Some(IdDocumentType::Other)),
    ] {
        let fields = accepted(&saying(typed), &Offers::ALL);
        assert_eq!(fields.id_document_type, expected, "{typed}");
    }
    let errors = refused(&saying("library card"), &Offers::ALL);
    assert_eq!(
        errors.get(&Field::IdDocumentType),
        Some(&FieldProblem::IdDocumentTypeInvalid)
    );
}
