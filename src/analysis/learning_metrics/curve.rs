//! Learning curves with bounded memory.

#[allow(unused_imports)]
use super::*;

// ------------------------------------------------------------------------------------------
// Learning curves
// ------------------------------------------------------------------------------------------

/// A learning curve: `(time, value)` points (e.g. training time in s and field error) kept to at
/// most `max_points` by decimation.
///
/// The k-th pushed point (k = 0, 1, …) is kept when k is a multiple of the current stride (first
/// 1). When more than `max_points` are kept, every other kept point is dropped and the stride
/// doubles, so the kept points stay evenly spaced in push count, always include the first one, and
/// memory is O(max_points) however long training runs. The most recent point is always available
/// from [`LearningCurve::last`]; [`LearningCurve::to_vec`] appends it when it was not kept.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LearningCurve {
    max_points: usize,
    stride: u64,
    pushed: u64,
    points: Vec<(f64, f64)>,
    last: Option<(f64, f64)>,
}

impl LearningCurve {
    /// An empty curve keeping at most `max(max_points, 2)` points.
    pub fn new(max_points: usize) -> Self {
        LearningCurve {
            max_points: max_points.max(2),
            stride: 1,
            pushed: 0,
            points: Vec::new(),
            last: None,
        }
    }

    /// Adds a point (time, value); see the type's docs for which points are kept.
    pub fn push(&mut self, time: f64, value: f64) {
        if self.pushed % self.stride == 0 {
            self.points.push((time, value));
            if self.points.len() > self.max_points {
                let mut k = 0;
                self.points.retain(|_| {
                    k += 1;
                    k % 2 == 1
                });
                self.stride *= 2;
            }
        }
        self.pushed += 1;
        self.last = Some((time, value));
    }

    /// The kept points, in push order.
    pub fn points(&self) -> &[(f64, f64)] {
        &self.points
    }

    /// The most recently pushed point.
    pub fn last(&self) -> Option<(f64, f64)> {
        self.last
    }

    /// The kept points followed by the most recent point if it was not kept.
    pub fn to_vec(&self) -> Vec<(f64, f64)> {
        let mut v = self.points.clone();
        if let Some(l) = self.last {
            if (self.pushed - 1) % self.stride != 0 {
                v.push(l);
            }
        }
        v
    }

    /// Number of points pushed so far.
    pub fn pushed(&self) -> u64 {
        self.pushed
    }

    /// Current decimation stride: one kept point per `stride` pushes.
    pub fn stride(&self) -> u64 {
        self.stride
    }

    /// Number of kept points.
    pub fn len(&self) -> usize {
        self.points.len()
    }

    /// Whether no point was pushed.
    pub fn is_empty(&self) -> bool {
        self.points.is_empty()
    }
}
