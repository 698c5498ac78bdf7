use super::*;

fn model() -> LoadModel {
    LoadModel::default()
}

fn count(total: usize, healthy: usize) -> LevelCount {
    LevelCount { total, healthy }
}

/// Loads (percent) of a two-level set with P1 fully healthy, P0 `healthy` of `total`.
fn two(healthy0: usize, total0: usize) -> Vec<(u32, bool)> {
    model()
        .loads(&[count(total0, healthy0), count(10, 10)])
        .into_iter()
        .map(|l| (l.load, l.panic))
        .collect()
}

#[test]
fn overprovisioning_keeps_p0_until_it_loses_more_than_a_quarter() {
    // Envoy's table "P=1 100% healthy": 72% → 100/0, 71% → 99/1, 50% → 70/30, 25% → 35/65, 0 → 0/100.
    assert_eq!(two(100, 100), [(100, false), (0, false)]);
    assert_eq!(two(72, 100), [(100, false), (0, false)]);
    assert_eq!(two(71, 100), [(99, false), (1, false)]);
    assert_eq!(two(50, 100), [(70, false), (30, false)]);
    assert_eq!(two(25, 100), [(35, false), (65, false)]);
    assert_eq!(two(0, 100), [(0, false), (100, false)]);
}

#[test]
fn four_endpoints_two_ejected_spill_thirty_percent() {
    assert_eq!(two(2, 4), [(70, false), (30, false)]);
    // 2 of 5 healthy: 40 % × 1.4 = 56 %.
    assert_eq!(two(2, 5), [(56, false), (44, false)]);
}

#[test]
fn normalised_when_total_health_is_short_and_panic_below_threshold() {
    // Envoy's second table (P=1 at 20 % healthy → health 28 %): P0 at 60 % → health 84,
    // total 112 → 100: P0 84, P1 16, no panic.
    let loads = model().loads(&[count(100, 60), count(100, 20)]);
    assert_eq!(
        loads,
        [
            LevelLoad {
                load: 84,
                panic: false
            },
            LevelLoad {
                load: 16,
                panic: false
            }
        ]
    );
    // P0 at 40 % → health 56, total 84 < 100: normalised 67/33; P0 (40 % < 50) and P1 (20 %) in
    // panic: every level is, so the levels share by endpoint count.
    let loads = model().loads(&[count(100, 40), count(100, 20)]);
    assert!(loads.iter().all(|l| l.panic));
    assert_eq!(loads.iter().map(|l| l.load).collect::<Vec<_>>(), [50, 50]);
    // Envoy's row "P0 5 %, P1 65 %": healths 7 and 91, total 98 < 100: P0 alone in panic.
    // Scaled: 7.1 → 7 and 92.9 → 92; the rounding leftover goes to the first level with health
    // (Envoy's table shows 7/93; its code, like this, gives the leftover to the first).
    let loads = model().loads(&[count(100, 5), count(100, 65)]);
    assert_eq!(
        loads,
        [
            LevelLoad {
                load: 8,
                panic: true
            },
            LevelLoad {
                load: 92,
                panic: false
            }
        ]
    );
}

#[test]
fn one_level_panics_below_the_threshold_only() {
    let one = |healthy| model().loads(&[count(5, healthy)])[0];
    assert_eq!(
        one(5),
        LevelLoad {
            load: 100,
            panic: false
        }
    );
    assert_eq!(
        one(3),
        LevelLoad {
            load: 100,
            panic: false
        }
    );
    // 2 of 5 = 40 % < 50 %.
    assert_eq!(
        one(2),
        LevelLoad {
            load: 100,
            panic: true
        }
    );
    assert_eq!(
        one(1),
        LevelLoad {
            load: 100,
            panic: true
        }
    );
}

#[test]
fn panic_threshold_zero_disables_panic_but_not_the_last_resort() {
    let off = LoadModel {
        panic_threshold: 0.0,
        ..model()
    };
    assert_eq!(
        off.loads(&[count(5, 1)])[0],
        LevelLoad {
            load: 100,
            panic: false
        }
    );
    // Nothing healthy at all: every endpoint rather than none.
    assert_eq!(
        off.loads(&[count(2, 0), count(3, 0)]),
        [
            LevelLoad {
                load: 40,
                panic: true
            },
            LevelLoad {
                load: 60,
                panic: true
            }
        ]
    );
}

#[test]
fn factor_is_configurable() {
    let strict = LoadModel {
        overprovisioning_factor: 100,
        ..model()
    };
    let loads = strict.loads(&[count(4, 3), count(4, 4)]);
    assert_eq!(loads.iter().map(|l| l.load).collect::<Vec<_>>(), [75, 25]);
}

#[test]
fn loads_always_add_up_to_100() {
    for a in 0..=6 {
        for b in 0..=3 {
            for c in 0..=7 {
                let loads = model().loads(&[count(6, a), count(3, b), count(7, c)]);
                let sum: u32 = loads.iter().map(|l| l.load).sum();
                assert_eq!(sum, 100, "{a}/6 {b}/3 {c}/7: {loads:?}");
            }
        }
    }
    assert!(model().loads(&[]).is_empty());
}

#[test]
fn draws_fall_in_cumulative_loads() {
    let loads = [70, 0, 30];
    assert_eq!(level_for(0, loads), Some(0));
    assert_eq!(level_for(69, loads), Some(0));
    assert_eq!(level_for(70, loads), Some(2));
    assert_eq!(level_for(99, loads), Some(2));
    assert_eq!(level_for(5, [0, 0]), None);
}
