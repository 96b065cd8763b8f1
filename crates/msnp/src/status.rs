//! MSNP statuses and Mocha's. MSNP's `IDL` (idle) has no Mocha twin: it is shown as away.

use mocha_proto::Status;

/// The status a client chose with `CHG`; `None` for `FLN` or an unknown code.
pub fn from_code(code: &str) -> Option<Status> {
    Some(match code {
        "NLN" => Status::Online,
        "BSY" => Status::Busy,
        "AWY" | "IDL" => Status::Away,
        "BRB" => Status::BeRightBack,
        "PHN" => Status::OnThePhone,
        "LUN" => Status::OutToLunch,
        "HDN" => Status::Hidden,
        _ => return None,
    })
}

/// The code others see (`HDN` and `FLN` never reach anyone: the core sends offline).
pub fn status_code(status: Status) -> &'static str {
    status.code()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_classic_status_maps_and_offline_cannot_be_chosen() {
        for code in ["NLN", "BSY", "AWY", "BRB", "PHN", "LUN", "HDN"] {
            assert_eq!(from_code(code).map(status_code), Some(code));
        }
        assert_eq!(from_code("IDL"), Some(Status::Away));
        assert_eq!(from_code("FLN"), None);
        assert_eq!(from_code("nln"), None);
    }
}
