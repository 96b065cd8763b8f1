//! The error answers many operations share, added to the OpenAPI document from what
//! each operation takes — a JSON body, path or query parameters, a session token — so
//! every operation documents them and handlers list only the errors of their own domain.
//!
//! A rule added here (say a status every write can answer) reaches every operation it
//! fits without touching the handlers.

use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::{ContentBuilder, OpenApi, Ref, RefOr, ResponseBuilder};

use super::MAX_BODY_BYTES;

const _: () = assert!(MAX_BODY_BYTES == 16 * 1024, "the 413 text below names the limit");

/// One error code an operation may answer, with its status and when it happens.
struct Answer {
    status: u16,
    code: &'static str,
    when: &'static str,
}

const fn answer(status: u16, code: &'static str, when: &'static str) -> Answer {
    Answer { status, code, when }
}

/// Every operation: a server fault.
const EVERY: &[Answer] = &[answer(500, "internal", "a server fault; the details are in the server log only")];

/// Operations with a JSON request body (read before the handler runs).
const JSON_BODY: &[Answer] = &[
    answer(400, "invalid_json", "the body is not JSON of the documented shape"),
    answer(400, "invalid_body", "the body could not be read (a broken chunked encoding, a client gone)"),
    answer(
        408,
        "request_timeout",
        "the body did not arrive within the server's request time; the connection is closed",
    ),
    answer(413, "payload_too_large", "the body is over 16 KiB"),
    answer(415, "unsupported_media_type", "the body was not sent as `Content-Type: application/json`"),
];

const PATH_PARAMETERS: &[Answer] = &[answer(
    400,
    "invalid_path",
    "a path parameter is malformed (user ids look like `u2`, request ids are integers)",
)];

const QUERY_PARAMETERS: &[Answer] =
    &[answer(400, "invalid_query", "a query parameter is missing or malformed")];

/// Operations that need `Authorization: Bearer <session token>`; every such request
/// re-checks the account, its sign-in and bans.
const SESSION: &[Answer] = &[
    answer(401, "invalid_token", "no session token, or a malformed, forged or unknown one"),
    answer(401, "token_expired", "the session token is past its end: refresh it"),
    answer(401, "sign_in_revoked", "the token's sign-in was signed out or revoked"),
    answer(403, "banned", "the account is banned; `ban` says why and until when"),
];

pub struct SharedErrors;

impl utoipa::Modify for SharedErrors {
    fn modify(&self, openapi: &mut OpenApi) {
        for item in openapi.paths.paths.values_mut() {
            let operations = [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
                &mut item.head,
                &mut item.options,
            ];
            for operation in operations.into_iter().flatten() {
                add_shared_errors(operation);
            }
        }
    }
}

fn add_shared_errors(operation: &mut Operation) {
    let takes = |place: ParameterIn| {
        operation.parameters.iter().flatten().any(|parameter| match parameter {
            RefOr::T(parameter) => parameter.parameter_in == place,
            RefOr::Ref(_) => false,
        })
    };
    let mut answers: Vec<&Answer> = EVERY.iter().collect();
    if operation.request_body.is_some() {
        answers.extend(JSON_BODY);
    }
    if takes(ParameterIn::Path) {
        answers.extend(PATH_PARAMETERS);
    }
    if takes(ParameterIn::Query) {
        answers.extend(QUERY_PARAMETERS);
    }
    if operation.security.as_ref().is_some_and(|requirements| !requirements.is_empty()) {
        answers.extend(SESSION);
    }
    for answer in answers {
        document(operation, answer);
    }
}

/// Adds `answer` to the operation's response for its status, creating that response
/// (with the error envelope as its body) if the handler did not declare it.
fn document(operation: &mut Operation, answer: &Answer) {
    let line = format!("- `{}`: {}", answer.code, answer.when);
    let responses = &mut operation.responses.responses;
    match responses.get_mut(&answer.status.to_string()) {
        Some(RefOr::T(response)) => {
            if response.description.contains(&format!("`{}`", answer.code)) {
                return;
            }
            response.description = if response.description.trim().is_empty() {
                line
            } else {
                format!("{}\n{line}", response.description)
            };
        }
        Some(RefOr::Ref(_)) => {}
        None => {
            let error_body = ContentBuilder::new().schema(Some(Ref::from_schema_name("ErrorBody"))).build();
            let response =
                ResponseBuilder::new().description(line).content("application/json", error_body).build();
            responses.insert(answer.status.to_string(), RefOr::T(response));
        }
    }
}
