//! Validation of what clients and staff send, with one French message per field at fault.
//!
//! Every parser takes the raw JSON body, so a wrong type ("budget": "abc") is reported
//! on its field like any other mistake, and unknown fields are ignored.

use chrono::NaiveDate;
use serde_json::{Map, Value};

use crate::fields::FieldErrors;
use crate::request::{InterventionType, QuoteCategory, QuoteItem, ServiceType};
use crate::role::Role;
use crate::status::{Status, Urgency};
use crate::text::{clean_label, clean_line, clean_multiline};

pub const MSG_REQUIRED: &str = "Ce champ est obligatoire";
pub const MSG_NOT_TEXT: &str = "Doit être un texte";
pub const MSG_DATE: &str = "Date invalide (format attendu : AAAA-MM-JJ)";
pub const MSG_BUDGET: &str = "Le budget doit être un nombre entier de francs CFA, positif ou nul";
pub const MSG_QUANTITY: &str = "La quantité doit être un nombre entier supérieur à 0";
pub const MSG_NOT_OBJECT: &str = "Le corps de la requête doit être un objet JSON";

/// Largest amount accepted, in francs: far above any real request, far below i64 overflow.
pub const MAX_AMOUNT: i64 = 1_000_000_000_000;
pub const MAX_ITEMS: usize = 100;
pub const MAX_QUANTITY: i64 = 1_000_000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewProject {
    pub name: String,
    pub service_type: ServiceType,
    pub description: String,
    pub address: String,
    pub estimated_budget: Option<i64>,
    pub preferred_start_date: Option<String>,
    pub urgency: Urgency,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewIntervention {
    pub intervention_type: InterventionType,
    pub title: String,
    pub description: String,
    pub site: String,
    pub preferred_date: Option<String>,
    /// Checked against the caller's own projects by the server.
    pub project_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewQuote {
    pub title: String,
    pub category: QuoteCategory,
    pub description: String,
    pub estimated_budget: Option<i64>,
    pub deadline: Option<String>,
    pub items: Vec<QuoteItem>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusChange {
    pub status: Status,
    pub reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewUser {
    pub name: String,
    pub email: String,
    pub role: Role,
    pub password: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    pub email: String,
    pub password: String,
}

/// Reads fields out of a JSON object and collects what is wrong with them.
struct Form<'a> {
    obj: Option<&'a Map<String, Value>>,
    errors: FieldErrors,
}

impl<'a> Form<'a> {
    fn new(body: &'a Value) -> Form<'a> {
        let mut errors = FieldErrors::new();
        let obj = body.as_object();
        if obj.is_none() {
            errors.add("body", MSG_NOT_OBJECT);
        }
        Form { obj, errors }
    }

    /// The raw value, with `null` and blank strings counting as absent.
    fn raw(&self, field: &str) -> Option<&'a Value> {
        match self.obj?.get(field)? {
            Value::Null => None,
            Value::String(s) if s.trim().is_empty() => None,
            v => Some(v),
        }
    }

    fn string(&mut self, field: &str, clean: fn(&str) -> String) -> Option<String> {
        match self.raw(field)? {
            Value::String(s) => Some(clean(s)).filter(|s| !s.is_empty()),
            _ => {
                self.errors.add(field, MSG_NOT_TEXT);
                None
            }
        }
    }

    fn check_len(&mut self, field: &str, value: &str, min: usize, max: usize) {
        let n = value.chars().count();
        if n < min {
            self.errors
                .add(field, format!("Doit contenir au moins {min} caractères"));
        } else if n > max {
            self.errors
                .add(field, format!("Doit contenir au plus {max} caractères"));
        }
    }

    fn required(
        &mut self,
        field: &str,
        clean: fn(&str) -> String,
        min: usize,
        max: usize,
    ) -> String {
        if self.obj.is_none() {
            return String::new();
        }
        match self.string(field, clean) {
            Some(s) => {
                self.check_len(field, &s, min, max);
                s
            }
            None => {
                self.errors.add(field, MSG_REQUIRED);
                String::new()
            }
        }
    }

    fn optional(&mut self, field: &str, max: usize) -> Option<String> {
        let s = self.string(field, clean_line)?;
        self.check_len(field, &s, 1, max);
        Some(s)
    }

    fn choice<T>(&mut self, field: &str, parse: fn(&str) -> Option<T>, names: &str) -> Option<T> {
        let s = self.string(field, clean_line)?;
        let v = parse(&s);
        if v.is_none() {
            self.errors
                .add(field, format!("Valeur invalide : choisissez parmi {names}"));
        }
        v
    }

    fn required_choice<T>(
        &mut self,
        field: &str,
        parse: fn(&str) -> Option<T>,
        names: &str,
    ) -> Option<T> {
        if self.obj.is_some() && self.raw(field).is_none() {
            self.errors.add(field, MSG_REQUIRED);
            return None;
        }
        self.choice(field, parse, names)
    }

    fn money(&mut self, field: &str) -> Option<i64> {
        let v = self.raw(field)?;
        match v.as_i64().or_else(|| whole_float(v)) {
            Some(n) if (0..=MAX_AMOUNT).contains(&n) => Some(n),
            _ => {
                self.errors.add(field, MSG_BUDGET);
                None
            }
        }
    }

    fn date(&mut self, field: &str) -> Option<String> {
        let s = self.string(field, clean_line)?;
        if NaiveDate::parse_from_str(&s, "%Y-%m-%d").is_ok() && s.len() == 10 {
            Some(s)
        } else {
            self.errors.add(field, MSG_DATE);
            None
        }
    }

    fn finish<T>(self, value: T) -> Result<T, FieldErrors> {
        self.errors.into_result(value)
    }
}

/// `3.0` is accepted as 3; `3.5` is not a whole number of francs.
fn whole_float(v: &Value) -> Option<i64> {
    let f = v.as_f64()?;
    (f.fract() == 0.0 && f.abs() <= MAX_AMOUNT as f64).then_some(f as i64)
}

fn parse_service_type(s: &str) -> Option<ServiceType> {
    serde_json::from_value(Value::String(s.to_string())).ok()
}

fn parse_intervention_type(s: &str) -> Option<InterventionType> {
    serde_json::from_value(Value::String(s.to_string())).ok()
}

fn parse_category(s: &str) -> Option<QuoteCategory> {
    serde_json::from_value(Value::String(s.to_string())).ok()
}

pub fn parse_new_project(body: &Value) -> Result<NewProject, FieldErrors> {
    let mut f = Form::new(body);
    let name = f.required("name", clean_label, 3, 200);
    let service_type = f.required_choice("serviceType", parse_service_type, ServiceType::NAMES);
    let description = f.required("description", clean_multiline, 10, 5000);
    let address = f.required("address", clean_line, 3, 300);
    let estimated_budget = f.money("estimatedBudget");
    let preferred_start_date = f.date("preferredStartDate");
    let urgency = f
        .choice("urgency", Urgency::parse, "normal, high, urgent")
        .unwrap_or_default();
    let value = NewProject {
        name,
        service_type: service_type.unwrap_or(ServiceType::Other),
        description,
        address,
        estimated_budget,
        preferred_start_date,
        urgency,
    };
    f.finish(value)
}

pub fn parse_new_intervention(body: &Value) -> Result<NewIntervention, FieldErrors> {
    let mut f = Form::new(body);
    let intervention_type = f.required_choice("type", parse_intervention_type, "planned, urgent");
    let title = f.required("title", clean_label, 3, 200);
    let description = f.required("description", clean_multiline, 10, 5000);
    let site = f.required("site", clean_line, 3, 300);
    let preferred_date = f.date("preferredDate");
    let project_id = f.optional("projectId", 100);
    let value = NewIntervention {
        intervention_type: intervention_type.unwrap_or(InterventionType::Planned),
        title,
        description,
        site,
        preferred_date,
        project_id,
    };
    f.finish(value)
}

pub fn parse_new_quote(body: &Value) -> Result<NewQuote, FieldErrors> {
    let mut f = Form::new(body);
    let title = f.required("title", clean_label, 3, 200);
    let category = f.required_choice(
        "category",
        parse_category,
        "equipment, service, maintenance, other",
    );
    let description = f.required("description", clean_multiline, 10, 5000);
    let estimated_budget = f.money("estimatedBudget");
    let deadline = f.optional("deadline", 100);
    let items = parse_items(&mut f);
    let value = NewQuote {
        title,
        category: category.unwrap_or(QuoteCategory::Other),
        description,
        estimated_budget,
        deadline,
        items,
    };
    f.finish(value)
}

fn parse_items(f: &mut Form<'_>) -> Vec<QuoteItem> {
    let Some(raw) = f.raw("items") else {
        return Vec::new();
    };
    let Some(list) = raw.as_array() else {
        f.errors.add("items", "Doit être une liste d'articles");
        return Vec::new();
    };
    if list.len() > MAX_ITEMS {
        f.errors
            .add("items", format!("Au plus {MAX_ITEMS} articles par demande"));
        return Vec::new();
    }
    let mut items = Vec::with_capacity(list.len());
    for (i, entry) in list.iter().enumerate() {
        let mut item = Form::new(entry);
        if item.obj.is_none() {
            f.errors.add(&format!("items[{i}]"), "Doit être un objet");
            continue;
        }
        let name = item.required("name", clean_label, 1, 200);
        let quantity = match entry.get("quantity") {
            None | Some(Value::Null) => {
                item.errors.add("quantity", MSG_REQUIRED);
                0
            }
            Some(q) => match q.as_i64().or_else(|| whole_float(q)) {
                Some(n) if (1..=MAX_QUANTITY).contains(&n) => n,
                _ => {
                    item.errors.add("quantity", MSG_QUANTITY);
                    0
                }
            },
        };
        let specifications = match item.string("specifications", clean_multiline) {
            Some(s) => {
                item.check_len("specifications", &s, 0, 1000);
                s
            }
            None => String::new(),
        };
        for (field, message) in item.errors.0 {
            f.errors.add(&format!("items[{i}].{field}"), message);
        }
        items.push(QuoteItem {
            name,
            quantity,
            specifications,
        });
    }
    items
}

/// `{status, reason?}`; a rejection needs its reason.
pub fn parse_status_change(body: &Value) -> Result<StatusChange, FieldErrors> {
    let mut f = Form::new(body);
    let names = Status::ALL.map(Status::as_str).join(", ");
    let status = if f.obj.is_some() && f.raw("status").is_none() {
        f.errors.add("status", MSG_REQUIRED);
        None
    } else {
        f.choice("status", Status::parse, &names)
    };
    let reason = match f.string("reason", clean_multiline) {
        Some(r) => {
            f.check_len("reason", &r, 3, 1000);
            Some(r)
        }
        None => None,
    };
    if status == Some(Status::Rejected) && reason.is_none() {
        f.errors.add("reason", "Le motif du refus est obligatoire");
    }
    let value = StatusChange {
        status: status.unwrap_or(Status::Open),
        reason,
    };
    f.finish(value)
}

/// A chat message body.
pub fn parse_message(body: &Value) -> Result<String, FieldErrors> {
    let mut f = Form::new(body);
    let text = f.required("body", clean_multiline, 1, 5000);
    f.finish(text)
}

/// `{technicianId}` of an assignment.
pub fn parse_assign(body: &Value) -> Result<String, FieldErrors> {
    let mut f = Form::new(body);
    let id = f.required("technicianId", clean_line, 1, 100);
    f.finish(id)
}

pub fn parse_credentials(body: &Value) -> Result<Credentials, FieldErrors> {
    let mut f = Form::new(body);
    let email = f.required("email", clean_line, 3, 254).to_lowercase();
    let password = match f.raw("password") {
        Some(Value::String(s)) => s.clone(),
        Some(_) => {
            f.errors.add("password", MSG_NOT_TEXT);
            String::new()
        }
        None => {
            if f.obj.is_some() {
                f.errors.add("password", MSG_REQUIRED);
            }
            String::new()
        }
    };
    f.finish(Credentials { email, password })
}

pub fn parse_new_user(body: &Value) -> Result<NewUser, FieldErrors> {
    let mut f = Form::new(body);
    let name = f.required("name", clean_label, 2, 120);
    let email = f.required("email", clean_line, 3, 254).to_lowercase();
    if !email.is_empty() && !looks_like_email(&email) {
        f.errors.add("email", "Adresse email invalide");
    }
    let role = f.required_choice("role", Role::parse, "ADMIN, TECHNICIAN, CLIENT");
    let password = match f.raw("password") {
        Some(Value::String(s)) => s.clone(),
        _ => String::new(),
    };
    if let Some(msg) = crate::account::password_problem(&password, Some(&email)) {
        f.errors.add("password", msg);
    }
    let value = NewUser {
        name,
        email,
        role: role.unwrap_or(Role::Client),
        password,
    };
    f.finish(value)
}

/// A deliberately loose check: one `@`, something on each side, a dot in the domain.
pub fn looks_like_email(s: &str) -> bool {
    let mut parts = s.split('@');
    match (parts.next(), parts.next(), parts.next()) {
        (Some(local), Some(domain), None) => {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !s.contains(char::is_whitespace)
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_seed_project_body_is_valid() {
        let p = parse_new_project(&json!({
            "name": "Installation vidéosurveillance",
            "serviceType": "surveillance",
            "description": "Installation de 16 caméras IP...",
            "address": "123 Rue de Dakar, Sénégal",
            "estimatedBudget": 2500000,
            "preferredStartDate": "2025-12-01",
            "urgency": "normal"
        }))
        .unwrap();
        assert_eq!(p.service_type, ServiceType::Surveillance);
        assert_eq!(p.estimated_budget, Some(2_500_000));
    }

    #[test]
    fn every_fault_is_named_with_a_french_message() {
        let e = parse_new_project(&json!({
            "name": "  ",
            "serviceType": "plumbing",
            "description": "court",
            "estimatedBudget": -5,
            "preferredStartDate": "2025-02-30",
            "urgency": "soon",
            "unknown": true
        }))
        .unwrap_err();
        assert_eq!(e.get("name"), Some(MSG_REQUIRED));
        assert!(e.get("serviceType").unwrap().starts_with("Valeur invalide"));
        assert_eq!(
            e.get("description"),
            Some("Doit contenir au moins 10 caractères")
        );
        assert_eq!(e.get("address"), Some(MSG_REQUIRED));
        assert_eq!(e.get("estimatedBudget"), Some(MSG_BUDGET));
        assert_eq!(e.get("preferredStartDate"), Some(MSG_DATE));
        assert!(e.get("urgency").is_some());
        assert!(e.get("unknown").is_none());
    }

    #[test]
    fn budget_must_be_whole_francs() {
        let base = json!({"name":"Réseau","serviceType":"network","description":"Câblage de deux étages","address":"Dakar Plateau"});
        let mut b = base.clone();
        b["estimatedBudget"] = json!(1500.5);
        assert_eq!(
            parse_new_project(&b).unwrap_err().get("estimatedBudget"),
            Some(MSG_BUDGET)
        );
        b["estimatedBudget"] = json!("1500");
        assert!(parse_new_project(&b).is_err());
        b["estimatedBudget"] = json!(1500.0);
        assert_eq!(parse_new_project(&b).unwrap().estimated_budget, Some(1500));
    }

    #[test]
    fn intervention_type_is_required_and_text_is_cleaned() {
        let e = parse_new_intervention(&json!({"title":"ab"})).unwrap_err();
        assert_eq!(e.get("type"), Some(MSG_REQUIRED));
        assert!(e.get("title").is_some());
        let i = parse_new_intervention(&json!({
            "type": "urgent",
            "title": " Caméra\u{0000} défectueuse ",
            "description": "Ne fonctionne plus\r\ndepuis ce matin",
            "site": "Siège",
            "preferredDate": ""
        }))
        .unwrap();
        assert_eq!(i.title, "Caméra défectueuse");
        assert_eq!(i.description, "Ne fonctionne plus\ndepuis ce matin");
        assert_eq!(i.preferred_date, None);
    }

    #[test]
    fn quote_items_are_checked_one_by_one() {
        let e = parse_new_quote(&json!({
            "title": "Devis caméras",
            "category": "equipment",
            "description": "Dix caméras pour l'entrepôt",
            "items": [{"name": "Caméra", "quantity": 0}, {"quantity": 2}, "x"]
        }))
        .unwrap_err();
        assert_eq!(e.get("items[0].quantity"), Some(MSG_QUANTITY));
        assert_eq!(e.get("items[1].name"), Some(MSG_REQUIRED));
        assert_eq!(e.get("items[2]"), Some("Doit être un objet"));
    }

    #[test]
    fn titles_and_names_lose_invisible_formatting_characters() {
        let p = parse_new_project(&json!({
            "name": "\u{202E}Installation\u{200B}",
            "serviceType": "network",
            "description": "Câblage de deux étages",
            "address": "Dakar\u{202E} Plateau",
        }))
        .unwrap();
        assert_eq!(p.name, "Installation");
        // Only titles and names are labels; other single-line fields keep their text.
        assert_eq!(p.address, "Dakar\u{202E} Plateau");
        let i = parse_new_intervention(&json!({
            "type": "planned", "title": "Pan\u{2066}ne\u{2069}", "description": "Plus d'image depuis hier",
            "site": "Siège"
        }))
        .unwrap();
        assert_eq!(i.title, "Panne");
        let q = parse_new_quote(&json!({
            "title": "\u{FEFF}Devis\u{200F}", "category": "other", "description": "Dix caméras pour l'entrepôt",
            "items": [{"name": "Cam\u{200D}éra", "quantity": 1}]
        }))
        .unwrap();
        assert_eq!(
            (q.title.as_str(), q.items[0].name.as_str()),
            ("Devis", "Caméra")
        );
        let u = parse_new_user(&json!({
            "name": "Awa\u{061C} Diop\u{2060}", "email": "awa@example.sn", "role": "CLIENT",
            "password": "motdepasse-solide"
        }))
        .unwrap();
        assert_eq!(u.name, "Awa Diop");
        // A title made only of invisible characters is missing, not accepted.
        let e = parse_new_intervention(
            &json!({"type": "planned", "title": "\u{200B}\u{200B}\u{200B}"}),
        )
        .unwrap_err();
        assert_eq!(e.get("title"), Some(MSG_REQUIRED));
    }

    #[test]
    fn a_body_that_is_not_an_object_is_reported_once() {
        let e = parse_new_quote(&json!([1, 2])).unwrap_err();
        assert_eq!(e.0.len(), 1);
        assert_eq!(e.get("body"), Some(MSG_NOT_OBJECT));
    }

    #[test]
    fn rejecting_needs_a_reason() {
        let e = parse_status_change(&json!({"status": "rejected"})).unwrap_err();
        assert!(e.get("reason").is_some());
        let ok =
            parse_status_change(&json!({"status": "rejected", "reason": "Hors zone"})).unwrap();
        assert_eq!(ok.status, Status::Rejected);
    }

    #[test]
    fn new_users_need_a_real_looking_email_and_a_long_password() {
        let e =
            parse_new_user(&json!({"name":"A B","email":"nope","role":"chef","password":"123"}))
                .unwrap_err();
        assert!(e.get("email").is_some());
        assert!(e.get("role").is_some());
        assert!(e.get("password").is_some());
    }
}
