//! Canary rollouts in wasmesh (`wasmesh_tests::scenarios::rollout`).

use wasmesh_tests::scenarios::rollout;

#[test]
fn canary_gets_its_share_sticky_by_header() {
    rollout::canary_gets_its_share_sticky_by_header();
}

#[test]
fn canary_is_sticky_per_connection() {
    rollout::canary_is_sticky_per_connection();
}

#[test]
fn trapping_canary_is_rolled_back_with_no_failed_request() {
    rollout::failing_canary_is_rolled_back_with_no_failed_request("trap");
}

#[test]
fn looping_canary_is_rolled_back_with_no_failed_request() {
    rollout::failing_canary_is_rolled_back_with_no_failed_request("loop");
}

#[test]
fn memory_hungry_canary_is_rolled_back_with_no_failed_request() {
    rollout::failing_canary_is_rolled_back_with_no_failed_request("memory");
}

#[test]
fn canary_answering_5xx_is_rolled_back() {
    rollout::canary_answering_5xx_is_rolled_back();
}

#[test]
fn admin_promotes_rolls_back_and_resumes() {
    rollout::admin_promotes_rolls_back_and_resumes();
}

#[test]
fn reload_keeps_an_unchanged_rollout() {
    rollout::reload_keeps_an_unchanged_rollout();
}

#[test]
fn bad_canaries_are_refused_naming_the_field() {
    rollout::bad_canaries_are_refused_naming_the_field();
}

#[test]
fn trapping_canary_under_load_fails_no_request() {
    rollout::trapping_canary_under_load_fails_no_request();
}

#[test]
fn the_example_checks() {
    rollout::the_example_checks();
}

#[test]
fn shadow_canary_watches_without_changing_anything() {
    rollout::shadow_canary_watches_without_changing_anything();
}
