//! Staffing targets and the monotone search that finds the fewest servers meeting them.

use super::ErlangError;

/// What a number of agents must achieve. Every figure is monotone in the number of agents, so
/// the smallest number meeting all the given targets is found by search.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct ErlangTarget {
    /// Service level `(fraction, T seconds)`: answered within T ÷ all callers ≥ fraction.
    pub service_level: Option<(f64, f64)>,
    /// Largest share of callers who abandon (Erlang A only).
    pub max_abandon: Option<f64>,
    /// Largest average speed of answer (mean wait of answered callers), seconds.
    pub max_asa_s: Option<f64>,
}

impl ErlangTarget {
    /// Checks that the target can be met by some finite number of agents.
    pub(crate) fn check(&self, with_abandonment: bool) -> Result<(), ErlangError> {
        let impossible = |m: String| Err(ErlangError::ImpossibleTarget(m));
        if self.service_level.is_none() && self.max_abandon.is_none() && self.max_asa_s.is_none() {
            return impossible("no target given".into());
        }
        if let Some((f, t)) = self.service_level {
            if !(t.is_finite() && t >= 0.0) {
                return impossible(format!(
                    "the service-level threshold must be a finite number of seconds ≥ 0, got {t}"
                ));
            }
            if !(f > 0.0 && f < 1.0) {
                return impossible(format!(
                    "the service level must be above 0 and below 1, got {f}: some callers always \
                     find every agent busy, so no finite number of agents answers all of them \
                     within {t} s"
                ));
            }
        }
        if let Some(m) = self.max_abandon {
            if !with_abandonment {
                return impossible("Erlang C has no abandonment; use Erlang A".into());
            }
            if !(m > 0.0 && m <= 1.0) {
                return impossible(format!(
                    "the abandonment ceiling must be above 0 (some callers always wait, and \
                     some of them give up) and at most 1, got {m}"
                ));
            }
        }
        if let Some(s) = self.max_asa_s
            && !(s > 0.0 && s.is_finite())
        {
            return impossible(format!(
                "the ASA ceiling must be a positive, finite number of seconds, got {s}: some \
                 callers always wait"
            ));
        }
        Ok(())
    }

    /// The threshold T the evaluation needs (0 when no service level is targeted).
    pub(crate) fn threshold(&self) -> f64 {
        self.service_level.map_or(0.0, |(_, t)| t)
    }

    /// Whether figures `(service level, P(abandon), ASA)` meet the target.
    pub(crate) fn met_by(&self, sl: f64, p_abandon: f64, asa_s: f64) -> bool {
        self.service_level.is_none_or(|(f, _)| sl >= f)
            && self.max_abandon.is_none_or(|m| p_abandon <= m)
            && self.max_asa_s.is_none_or(|m| asa_s <= m)
    }
}

/// A lower bound on the servers from a load bound `x` (servers ≥ x), as a search start.
pub(crate) fn lower_bound(x: f64) -> Result<u32, ErlangError> {
    let x = x.max(1.0).floor();
    if x > f64::from(u32::MAX) {
        return Err(ErlangError::Unreachable { max: u32::MAX });
    }
    Ok(x as u32)
}

/// The smallest `n ≥ lo` with `ok(n)`, for `ok` false up to some point and true from there:
/// gallop from `lo` with doubling steps until `ok` holds, then bisect the last step. About
/// `2·log2(answer - lo)` evaluations; `Unreachable` if even `u32::MAX` fails.
pub(crate) fn smallest(
    lo: u32,
    mut ok: impl FnMut(u32) -> Result<bool, ErlangError>,
) -> Result<u32, ErlangError> {
    let hi = u64::from(u32::MAX);
    let mut failed: Option<u64> = None;
    let mut n = u64::from(lo);
    let mut step = 1u64;
    loop {
        if ok(n as u32)? {
            break;
        }
        failed = Some(n);
        if n == hi {
            return Err(ErlangError::Unreachable { max: u32::MAX });
        }
        n = (n + step).min(hi);
        step *= 2;
    }
    let (mut l, mut h) = (failed.map_or(n, |f| f + 1), n);
    while l < h {
        let mid = l + (h - l) / 2;
        if ok(mid as u32)? {
            h = mid;
        } else {
            l = mid + 1;
        }
    }
    Ok(h as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_finds_the_threshold_in_few_steps() {
        for answer in [1u32, 2, 3, 17, 1000, 123_456, 4_000_000_000, u32::MAX] {
            for lo in [1u32, answer / 2, answer] {
                let mut calls = 0;
                let got = smallest(lo.max(1), |n| {
                    calls += 1;
                    Ok(n >= answer)
                })
                .unwrap();
                assert_eq!(got, answer);
                assert!(calls <= 70, "{calls} evaluations for {answer}");
            }
        }
        assert_eq!(
            smallest(5, |_| Ok(false)),
            Err(ErlangError::Unreachable { max: u32::MAX })
        );
    }
}
