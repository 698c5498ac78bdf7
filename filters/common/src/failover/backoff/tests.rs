use super::*;
use crate::lb::random::SplitMix64;

#[test]
fn bounds_double_up_to_the_cap_and_values_spread() {
    let b = Backoff {
        base_ms: 25,
        max_ms: 100,
    };
    let mut rng = SplitMix64::new(7);
    for (retry, cap) in [(1, 25), (2, 50), (3, 100), (10, 100), (u32::MAX, 100)] {
        let waits: Vec<u64> = (0..200).map(|_| b.delay_ms(retry, &mut rng)).collect();
        assert!(waits.iter().all(|&w| w <= cap), "retry {retry}: {waits:?}");
        assert!(
            waits.iter().any(|&w| w < cap / 4),
            "retry {retry}: jitter reaches low values"
        );
    }
    let none = Backoff {
        base_ms: 0,
        max_ms: 0,
    };
    assert_eq!(none.delay_ms(3, &mut rng), 0);
}
