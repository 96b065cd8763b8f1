//! Issue 19, part 6: the served OpenAPI document tells a client generated from it every
//! status an operation can answer and the rules its fields follow. The second test is a
//! small schemathesis: for each documented operation it sends requests that trigger each
//! error class and checks that the server's answer is one the document lists.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::BTreeSet;

use common::{Engine, TestServer};
use serde_json::{Value, json};

mocha_passport::engine_tests!(
    every_operation_documents_its_errors_and_requests_carry_their_rules,
    each_error_class_answers_a_status_the_operation_documents,
);

fn reqwest_client(t: &TestServer) -> reqwest::Client {
    reqwest::Client::builder()
        .tls_backend_preconfigured((*t.trust.client_config().unwrap()).clone())
        .build()
        .unwrap()
}

fn base(t: &TestServer) -> String {
    format!("https://localhost:{}", t.server.passport_addr.unwrap().port())
}

async fn served_document(t: &TestServer) -> Value {
    let response = reqwest_client(t).get(format!("{}/api/v1/openapi.json", base(t))).send().await.unwrap();
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

/// One operation of the document.
struct Operation {
    method: String,
    path: String,
    spec: Value,
}

impl Operation {
    fn name(&self) -> String {
        format!("{} {}", self.method.to_uppercase(), self.path)
    }
    fn documented(&self) -> BTreeSet<u16> {
        self.spec["responses"].as_object().unwrap().keys().map(|status| status.parse().unwrap()).collect()
    }
    fn secured(&self) -> bool {
        self.spec["security"].as_array().is_some_and(|requirements| !requirements.is_empty())
    }
    fn body_schema(&self) -> Option<&Value> {
        self.spec.get("requestBody").map(|body| &body["content"]["application/json"]["schema"])
    }
    fn parameters(&self, place: &str) -> Vec<&Value> {
        self.spec["parameters"].as_array().into_iter().flatten().filter(|p| p["in"] == place).collect()
    }
    fn is_admin(&self) -> bool {
        self.path.starts_with("/api/v1/admin/")
    }
}

fn operations(document: &Value) -> Vec<Operation> {
    let mut operations = Vec::new();
    for (path, item) in document["paths"].as_object().unwrap() {
        for (method, spec) in item.as_object().unwrap() {
            if ["get", "put", "post", "delete", "patch"].contains(&method.as_str()) {
                operations.push(Operation { method: method.clone(), path: path.clone(), spec: spec.clone() });
            }
        }
    }
    assert!(operations.len() >= 30, "the document lists every operation: {}", operations.len());
    operations
}

/// Follows a `$ref` into `components`.
fn resolve<'a>(document: &'a Value, schema: &'a Value) -> &'a Value {
    match schema["$ref"].as_str() {
        Some(reference) => {
            let name = reference.rsplit('/').next().unwrap();
            resolve(document, &document["components"]["schemas"][name])
        }
        None => schema,
    }
}

fn property<'a>(document: &'a Value, schema: &str, field: &str) -> &'a Value {
    let schema = &document["components"]["schemas"][schema];
    assert!(schema.is_object(), "the document has the schema {schema}");
    resolve(document, &schema["properties"][field])
}

async fn every_operation_documents_its_errors_and_requests_carry_their_rules(engine: Engine) {
    let t = TestServer::start_on(engine).await;
    let document = served_document(&t).await;

    let mut missing = Vec::new();
    for operation in operations(&document) {
        let documented = operation.documented();
        let mut expect = |status: u16, why: &str| {
            if !documented.contains(&status) {
                missing.push(format!("{}: {status} ({why})", operation.name()));
            }
        };
        expect(500, "every operation");
        if operation.body_schema().is_some() {
            for status in [400, 408, 413, 415] {
                expect(status, "a JSON body");
            }
        }
        if !operation.parameters("path").is_empty() {
            expect(400, "a path parameter");
        }
        if operation.secured() {
            expect(401, "a session token");
            expect(403, "a banned account");
        }
        if operation.is_admin() {
            expect(403, "administrators only");
        }
        for (status, response) in operation.spec["responses"].as_object().unwrap() {
            if status.starts_with(['4', '5']) {
                let body = &response["content"]["application/json"]["schema"]["$ref"];
                assert_eq!(body, "#/components/schemas/ErrorBody", "{} {status}", operation.name());
                let codes = response["description"].as_str().unwrap();
                assert!(
                    codes.contains('`'),
                    "{} {status} names its error codes: {codes:?}",
                    operation.name()
                );
            }
        }
    }
    let bans = operations(&document).into_iter().find(|o| o.name() == "POST /api/v1/admin/bans").unwrap();
    if !bans.documented().contains(&404) {
        missing.push("POST /api/v1/admin/bans: 404 (no such user)".into());
    }
    assert!(missing.is_empty(), "undocumented statuses:\n{}", missing.join("\n"));

    // The field rules, as JSON Schema keywords.
    for (schema, field) in [
        ("RegisterRequest", "username"),
        ("RegisterRequest", "display_name"),
        ("RegisterRequest", "password"),
        ("UpdateProfileRequest", "display_name"),
        ("ChangePasswordRequest", "new_password"),
        ("NoticeRequest", "text"),
    ] {
        let rule = property(&document, schema, field);
        for keyword in ["minLength", "maxLength", "pattern"] {
            assert!(rule.get(keyword).is_some(), "{schema}.{field} has no {keyword}: {rule}");
        }
    }
    for (schema, field) in
        [("SetAliasRequest", "alias"), ("NewContactRequest", "message"), ("BanRequest", "reason")]
    {
        let rule = property(&document, schema, field);
        assert!(rule.get("maxLength").is_some() && rule.get("pattern").is_some(), "{schema}.{field}: {rule}");
    }
    assert!(property(&document, "BanRequest", "user_id")["pattern"].is_string(), "user ids have a pattern");
    let block =
        operations(&document).into_iter().find(|o| o.name() == "PUT /api/v1/blocks/{user_id}").unwrap();
    let user_id = resolve(&document, &block.parameters("path")[0]["schema"]);
    assert!(user_id["pattern"].is_string(), "the user id path parameter has a pattern: {user_id}");
    let password = property(&document, "RegisterRequest", "password");
    assert!(
        password["description"].as_str().unwrap().contains("sign-in"),
        "the rule no schema can say is told"
    );

    // The documented numbers are the server's: at the limit is accepted, one past it refused.
    let rule = |field: &str, keyword: &str| {
        property(&document, "RegisterRequest", field)[keyword].as_u64().unwrap() as usize
    };
    let password = "Secret-1".to_string() + &"x".repeat(rule("password", "maxLength") - 8);
    let longest_name = "N".repeat(rule("display_name", "maxLength"));
    let alice = t.passport.register("alice@example.com", &longest_name, &password).await.unwrap();
    assert_eq!(alice.display_name, longest_name);
    for (display_name, password, field) in [
        (longest_name.clone() + "N", "Secret-12".to_string(), "display_name"),
        ("Bob".into(), password.clone() + "x", "password"),
        ("Bob".into(), "S-1".to_string() + &"x".repeat(rule("password", "minLength") - 4), "password"),
    ] {
        let error = t.passport.register("bob@example.com", &display_name, &password).await.unwrap_err();
        assert_eq!(error.detail().unwrap().field.as_deref(), Some(field), "{display_name} {password}");
    }
    // The longest local part (64) and domain labels (63) the pattern allows, up to maxLength.
    let address = |length: usize| {
        let label = "c".repeat(63);
        format!("{}@{label}.{label}.{}.com", "b".repeat(64), "c".repeat(length - 197))
    };
    let long_address = address(rule("username", "maxLength"));
    assert_eq!(long_address.len(), rule("username", "maxLength"));
    t.passport.register(&long_address, "Bob", "Secret-12").await.unwrap();
    let too_long = address(rule("username", "maxLength") + 1);
    let error = t.passport.register(&too_long, "Bob", "Secret-12").await.unwrap_err();
    assert_eq!(error.detail().unwrap().field.as_deref(), Some("username"));
}

/// A value of `schema`'s shape: required properties only, strings a short word, user
/// ids an id nobody has, so a generated request changes nothing that others rely on.
fn generate(document: &Value, schema: &Value) -> Value {
    let schema = resolve(document, schema);
    if let Some(values) = schema["enum"].as_array() {
        return values[0].clone();
    }
    if let Some(first) = schema["oneOf"].as_array().and_then(|options| options.first()) {
        return generate(document, first);
    }
    let types: Vec<&str> = match &schema["type"] {
        Value::String(one) => vec![one.as_str()],
        Value::Array(many) => many.iter().filter_map(Value::as_str).collect(),
        _ => vec!["object"],
    };
    match types.iter().find(|t| **t != "null").copied().unwrap_or("null") {
        "string" if schema["pattern"].as_str().is_some_and(|p| p.starts_with("^u[")) => json!("u999999"),
        "string" if schema["format"] == "date-time" => json!("2099-01-01T00:00:00Z"),
        "string" => json!("word"),
        "integer" | "number" => json!(999_999),
        "boolean" => json!(true),
        "array" => json!([]),
        "null" => Value::Null,
        _ => {
            let mut object = serde_json::Map::new();
            for name in schema["required"].as_array().into_iter().flatten() {
                let name = name.as_str().unwrap();
                object.insert(name.to_string(), generate(document, &schema["properties"][name]));
            }
            Value::Object(object)
        }
    }
}

/// One request to send, and the status it must get when that is certain.
struct Probe {
    what: String,
    path: String,
    query: String,
    token: Option<String>,
    body: Option<(&'static str, Vec<u8>)>,
    expect: Option<u16>,
}

async fn each_error_class_answers_a_status_the_operation_documents(engine: Engine) {
    let t = TestServer::start_on(engine).await;
    let document = served_document(&t).await;
    let alice = t.user("alice").await;
    let root = t.user("root").await;
    let root = t.make_admin(&root).await;
    let carol = t.user("carol").await;
    t.server.passport.ban(root.account.id, carol.account.id, Some("probe"), None).await.unwrap();
    let http = reqwest_client(&t);

    let mut undocumented = Vec::new();
    let mut unexpected = Vec::new();
    let mut sent = 0;
    for operation in operations(&document) {
        let token = if operation.is_admin() { root.token() } else { alice.token() };
        // Path parameters: a well-formed value nobody has, and a malformed one.
        let fill = |malformed: bool| {
            let mut path = operation.path.clone();
            for parameter in operation.parameters("path") {
                let name = parameter["name"].as_str().unwrap();
                let schema = resolve(&document, &parameter["schema"]);
                let value = match (schema["type"].as_str(), schema["pattern"].is_string(), malformed) {
                    (Some("integer"), _, false) => "999999",
                    (Some("integer"), _, true) => "not-a-number",
                    (_, true, false) => "u999999",
                    (_, true, true) => "x9",
                    (_, false, _) => "nobody",
                };
                path = path.replace(&format!("{{{name}}}"), value);
            }
            path
        };
        let required_query: Vec<&str> = operation
            .parameters("query")
            .into_iter()
            .filter(|p| p["required"] == true)
            .map(|p| p["name"].as_str().unwrap())
            .collect();
        let query = required_query.iter().map(|name| format!("{name}=word")).collect::<Vec<_>>().join("&");
        let body = operation.body_schema().map(|schema| generate(&document, schema));
        let json_body = |value: &Value| Some(("application/json", serde_json::to_vec(value).unwrap()));
        let probe = |what: &str, token: Option<&str>, expect: Option<u16>| Probe {
            what: what.to_string(),
            path: fill(false),
            query: query.clone(),
            token: token.map(str::to_string),
            body: body.as_ref().and_then(json_body),
            expect,
        };

        let mut probes = vec![probe("a generated request", Some(token), None)];
        if operation.secured() {
            probes.push(probe("no session token", None, Some(401)));
            probes.push(probe("a forged session token", Some("not-a-token"), Some(401)));
            probes.push(probe("a banned account's token", Some(carol.token()), Some(403)));
        }
        if operation.is_admin() {
            probes.push(probe("a user who is not an administrator", Some(alice.token()), Some(403)));
        }
        if operation.parameters("path").iter().any(|p| {
            let schema = resolve(&document, &p["schema"]);
            schema["type"] == "integer" || schema["pattern"].is_string()
        }) {
            probes.push(Probe {
                path: fill(true),
                ..probe("a malformed path parameter", Some(token), Some(400))
            });
        }
        if !required_query.is_empty() {
            probes
                .push(Probe { query: String::new(), ..probe("no query parameters", Some(token), Some(400)) });
        }
        if let Some(schema) = operation.body_schema() {
            probes.push(Probe {
                body: Some(("text/plain", b"{}".to_vec())),
                ..probe("a body that is not declared JSON", Some(token), Some(415))
            });
            probes.push(Probe {
                body: Some(("application/json", b"{\"unfinished\":".to_vec())),
                ..probe("broken JSON", Some(token), Some(400))
            });
            probes.push(Probe {
                body: json_body(&json!(42)),
                ..probe("JSON of the wrong shape", Some(token), Some(400))
            });
            probes.push(Probe {
                body: json_body(&json!({ "padding": "p".repeat(17 * 1024) })),
                ..probe("a body over 16 KiB", Some(token), Some(413))
            });
            // Each string field one character past its documented maximum.
            let schema = resolve(&document, schema);
            for (name, field) in schema["properties"].as_object().into_iter().flatten() {
                let field = resolve(&document, field);
                if let Some(max) = field["maxLength"].as_u64() {
                    let mut long = body.clone().unwrap();
                    long[name.as_str()] = json!("w".repeat(max as usize + 1));
                    probes.push(Probe {
                        body: json_body(&long),
                        ..probe(&format!("`{name}` past its maxLength"), Some(token), None)
                    });
                }
            }
        }

        for probe in probes {
            let url = format!("{}{}?{}", base(&t), probe.path, probe.query);
            let mut request = http.request(operation.method.to_uppercase().parse().unwrap(), url);
            if let Some(token) = &probe.token {
                request = request.bearer_auth(token);
            }
            if let Some((content_type, bytes)) = probe.body {
                request = request.header("content-type", content_type).body(bytes);
            }
            let response = request.send().await.unwrap();
            sent += 1;
            let status = response.status().as_u16();
            let answer = response.text().await.unwrap_or_default();
            let seen = format!("{} with {}: {status} {answer:.200}", operation.name(), probe.what);
            if !operation.documented().contains(&status) {
                undocumented.push(seen.clone());
            }
            if probe.expect.is_some_and(|expected| expected != status) {
                unexpected.push(format!("{seen} (expected {})", probe.expect.unwrap()));
            }
            if status >= 500 {
                unexpected.push(format!("{seen} (a server error)"));
            }
        }
    }
    eprintln!("{sent} requests sent");
    assert!(undocumented.is_empty(), "answers the document does not list:\n{}", undocumented.join("\n"));
    assert!(unexpected.is_empty(), "unexpected answers:\n{}", unexpected.join("\n"));
    // The probes changed nothing they should not have.
    assert!(t.passport.me(alice.token()).await.is_ok());
    assert!(t.passport.me(root.token()).await.is_ok());
}
