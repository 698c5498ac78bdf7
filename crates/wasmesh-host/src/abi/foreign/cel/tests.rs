//! CEL values in Envoy 1.40's bytes (the expected hex is what Envoy's `expr_evaluate` answered
//! to the abi-test guest's `cel` case), the comprehension bound, and the token store.

use cel::{Context, Program};

use super::{comprehension_depth, encode, MAX_COMPREHENSION_DEPTH};
use crate::store::expressions::{Expressions, MAX_EXPRESSIONS};

fn hex_of(text: &str) -> Option<String> {
    let program = Program::compile(text).expect("it parses");
    let value = program.execute(&Context::default()).expect("it evaluates");
    let bytes = encode::value(&value)?;
    Some(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

#[test]
fn values_are_encoded_as_envoy_encodes_them() {
    let cases = [
        ("'/cel/path' + '!'", "2f63656c2f7061746821"),
        ("9 * 2", "1200000000000000"),
        ("2u", "0200000000000000"),
        ("1.5 * 2.0", "0000000000000840"),
        ("true", "01"),
        ("b'ab'", "6162"),
        ("duration('1.5s')", "002f685900000000"),
        ("timestamp('2026-01-02T03:04:05Z')", "0032961cf2ca8618"),
        (
            "[1, 2]",
            "02000000080000000000000008000000000000000100000000000000000002000000000000000000",
        ),
        ("{'a': 'b'}", "01000000010000000100000061006200"),
        (
            "[['x'], {'k': 1}]",
            "020000000f00000000000000170000000000000001000000010000000000000078000000000100000001000000080000006b000100000000000000000000",
        ),
    ];
    for (text, hex) in cases {
        assert_eq!(hex_of(text).as_deref(), Some(hex), "{text}");
    }
    assert_eq!(hex_of("null"), None, "null has no encoding");
}

#[test]
fn comprehensions_nest_at_most_two_deep() {
    let depth =
        |text: &str| comprehension_depth(Program::compile(text).expect("parses").expression());
    assert_eq!(depth("1 + 1"), 0);
    assert_eq!(depth("[1, 2].all(x, x > 0)"), 1);
    let two = "[1, 2].all(x, [3, 4].exists(y, y > x))";
    assert_eq!(depth(two), MAX_COMPREHENSION_DEPTH);
    let three = "[1].all(x, [2].all(y, [3].exists(z, z > y)))";
    assert_eq!(depth(three), MAX_COMPREHENSION_DEPTH + 1);
    assert_eq!(depth("{'k': [1].map(x, x)}.k"), 1, "inside a map literal");
}

#[test]
fn tokens_count_from_zero_per_root_and_the_store_is_bounded() {
    let program = || Program::compile("1").expect("parses");
    let mut store = Expressions::default();
    assert_eq!(store.insert(1, program()), Some(0));
    assert_eq!(store.insert(1, program()), Some(1));
    assert_eq!(
        store.insert(2, program()),
        Some(0),
        "another root counts on its own"
    );
    store.remove(1, 0);
    assert!(store.get(1, 0).is_none() && store.get(1, 1).is_some());
    store.forget_root(1);
    assert!(store.get(1, 1).is_none());
    for _ in 1..MAX_EXPRESSIONS {
        assert!(store.insert(3, program()).is_some());
    }
    assert_eq!(store.insert(3, program()), None, "past the cap");
    store.remove(3, 0);
    assert!(
        store.insert(3, program()).is_some(),
        "a deleted one makes room"
    );
}
