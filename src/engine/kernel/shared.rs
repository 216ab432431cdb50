//! The shared-state layout: with low-rank weights every voltage is `V_i = D_iᵀ y + w_i`, so an
//! event changes O(d) numbers instead of O(N).
//!
//! `y` is one d-dimensional state shared by all neurons,
//!
//! ```text
//! ẏ = −λ_V y + c(t) + M x̂(t) [+ U Ψ(x̂)] − Σ_j D_j δ(t − t_j − δ_f)
//! ```
//!
//! (the input polynomial `cpoly`, the slow currents `mx = M x̂` and the learned current are already
//! d-dimensional in the kernel), so its trajectory between events is d exponential polynomials
//! of the same basis as the voltages. `w_i` only decays at λ_V and jumps at i's own spikes:
//! `−Ω_f[i,i] = −(‖D_i‖² + μ)` at the spike (the reset), `+‖D_i‖²` when its own delivery reaches
//! `y` (a neuron does not inhibit itself through `y`). All `w_i` decay by one common factor, so
//! they are stored in a frame, `w_i(t) = w[i] · e^{−λ_V (t − t_ref)}`: a decay costs nothing and
//! keeps their order, which is what the hierarchy's extremes need ([`super::tree`]). The frame
//! is renormalised (O(N), every ~10²/λ_V seconds) before its factor underflows. A clamped
//! neuron's voltage is its held value; at the end of its period its `w` is set so that it
//! resumes from there. The filtered spike trains are kept in a frame the same way (decaying at
//! λ_d), for a later switch to the per-neuron layout.
//!
//! Voltage noise, per-neuron offsets of a learned current, a basis on the spike trains and
//! explicit N×N weights give every neuron its own input: the kernel then switches to the
//! per-neuron layout (`super`), and back when they are gone.

use super::carry::{self, Carry, Member};
use super::relax::Relaxation;
use super::tree::{DecoderTree, Scratch};
use super::{Kernel, Layout, STRIDE};
use crate::closed_form::expo::{BasisValues, Trajectory};

/// The frame is renormalised before its factor drops below this.
const FRAME_FLOOR: f64 = 1e-100;

/// Searches per ledger window of [`Thrift`].
const THRIFT_WINDOW: u32 = 256;

/// How many times the per-neuron layout's cost the shared-state search may spend over a window
/// before [`Layout::Auto`] leaves it.
const THRIFT_SLACK: f64 = 4.0;

/// The work ledger of [`Layout::Auto`]: the shared-state search's cost against what the
/// per-neuron layout would have spent on the same searches, in units of one neuron's bound
/// check. A step costs one descent of the hierarchy (`16 ⌈log₂ N⌉`), a band member one certified
/// search (4); the per-neuron layout spends about N per search (every voltage advanced, every
/// bound checked). Over windows of [`THRIFT_WINDOW`] searches, a shared-state cost above
/// [`THRIFT_SLACK`] times that gives up the shared-state layout for the rest of the run. Counts
/// only, so the decision is deterministic.
#[derive(serde::Serialize, serde::Deserialize, Clone, Copy, Debug, Default)]
pub(super) struct Thrift {
    searches: u32,
    cost: f64,
    /// Set once the shared-state layout has cost too much: [`Layout::Auto`] no longer uses it.
    pub(super) gave_up: bool,
}

impl Thrift {
    /// Books one shared-state search of `steps` steps and `band` band members in a network of
    /// `n` neurons; true when the shared-state layout should be given up now.
    pub(super) fn book(&mut self, n: usize, steps: u64, band: u64) -> bool {
        let log2n = (usize::BITS - n.max(2).leading_zeros()) as f64;
        self.cost += steps as f64 * 16.0 * log2n + band as f64 * 4.0;
        self.searches += 1;
        if self.searches < THRIFT_WINDOW {
            return false;
        }
        let budget = THRIFT_SLACK * n as f64 * self.searches as f64;
        let over = self.cost > budget;
        self.searches = 0;
        self.cost = 0.0;
        self.gave_up |= over;
        over
    }
}

/// The shared state and the hierarchy over the neurons.
#[derive(serde::Serialize, serde::Deserialize, Clone, Debug)]
pub(super) struct Shared {
    /// `y` at the kernel's origin.
    pub(super) y: Vec<f64>,
    /// `w_i` in the frame: `w_i(t) = w[i] · e^{−λ_V (t − t_ref)}`.
    pub(super) w: Vec<f64>,
    /// Filtered spike trains in the frame: `r_i(t) = r[i] · e^{−λ_d (t − t_ref)}`.
    r: Vec<f64>,
    pub(super) t_ref: f64,
    /// The frame factors at the origin: `e^{−λ_V (origin − t_ref)}`, `e^{−λ_d (origin − t_ref)}`.
    pub(super) g: f64,
    gd: f64,
    pub(super) tree: DecoderTree,
    /// Scratch: `y` at a search point, the hierarchy's stack, a band of neurons.
    pub(super) ya: Vec<f64>,
    pub(super) scratch: Scratch,
    /// Scratch: the ends of `y(t) − y(a)` over a search piece.
    pub(super) dy: (Vec<f64>, Vec<f64>),
    /// The same-instant query's stack (that query has only `&self`).
    stack: std::cell::RefCell<Vec<(u32, f64)>>,
    /// The band that decided the search's crossing, with its neuron: everyone else was proven
    /// below threshold there by a margin.
    pub(super) found_band: Vec<u32>,
    /// Whether [`Shared::found_band`] holds every neuron that can be above threshold at the
    /// origin: set when the found crossing fires, cleared by anything that moves a voltage but
    /// a spike's own reset (a delivery, a release, a new interval, a change of the network).
    certified: bool,
    /// The band carried across events that do not raise a voltage ([`super::carry`]).
    pub(super) carry: Carry,
    /// Scratch: the band members a search's certified window leaves (for [`Shared::carry`]).
    pub(super) members: Vec<Member>,
    /// The relaxation index ([`super::relax`]; built when an interval first needs it, so not
    /// kept in checkpoints).
    #[serde(skip)]
    pub(super) relax: Relaxation,
    /// Whether every fast connection inhibits (all decoders in one orthant).
    pub(super) inhibitory: bool,
}

/// `Σ a_j b_j` over the shorter of the two, in index order (d = 2 unrolled, the same sum).
#[inline(always)]
pub(super) fn dot(a: &[f64], b: &[f64]) -> f64 {
    if let ([a0, a1], [b0, b1]) = (a, b) {
        return [a0 * b0, a1 * b1].into_iter().sum();
    }
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

impl Kernel {
    /// Whether the shared-state layout can hold this kernel's state now.
    pub(super) fn shared_allowed(&self) -> bool {
        let wanted = match self.layout {
            Layout::PerNeuron => false,
            Layout::Shared => true,
            Layout::Auto => {
                let min = if self.learned.is_some() {
                    Layout::AUTO_SHARED_MIN_LEARNED
                } else {
                    Layout::AUTO_SHARED_MIN
                };
                self.n >= min && !self.thrift.gave_up
            }
        };
        wanted
            && self.net.is_low_rank()
            && self.noise.is_empty()
            && self
                .learned
                .as_ref()
                .is_none_or(|l| !l.basis().on_trains() && l.offsets().is_none())
    }

    /// Switches to the layout the kernel's state allows (at the origin, which must be `now`):
    /// O(N·d) when it changes, nothing otherwise. The next [`Kernel::refresh_interval`]
    /// recomputes what the new layout needs.
    pub(super) fn choose_layout(&mut self) {
        debug_assert_eq!(self.origin, self.now);
        let want = self.shared_allowed();
        if want == self.shared.is_some() {
            return;
        }
        self.search = None;
        self.drive_segment = None;
        let (n, d) = (self.n, self.d);
        if want {
            // y: the least-squares fit of the voltages by the decoders (so the w's are small
            // residuals); w: the rest.
            let v = std::mem::take(&mut self.v);
            let y = least_squares(self.net.decoders(), d, &v);
            let w: Vec<f64> = v
                .iter()
                .zip(self.net.decoders().chunks_exact(d))
                .map(|(vi, di)| vi - dot(di, &y))
                .collect();
            let mut sh = Shared::new(self, y, w);
            sh.r = std::mem::take(&mut self.trains);
            self.slow = Vec::new();
            self.drive = Vec::new();
            self.shared = Some(Box::new(sh));
        } else {
            let mut v = vec![0.0; n];
            for (i, vi) in v.iter_mut().enumerate() {
                *vi = self.voltage(i);
            }
            let sh = self.shared.take().expect("shared layout");
            self.trains = sh.r.iter().map(|r| r * sh.gd).collect();
            self.v = v;
            self.slow = vec![0.0; n];
            self.drive = vec![0.0; n * STRIDE];
        }
    }

    /// Neuron i's voltage at the origin (a clamped neuron's held value).
    #[inline]
    pub(super) fn voltage(&self, i: usize) -> f64 {
        match &self.shared {
            None => self.v[i],
            Some(sh) => self.shared_voltage(sh, i),
        }
    }

    /// Neuron i's voltage at the origin from the shared state `sh` (which may be out of
    /// `self` during a search).
    #[inline]
    pub(super) fn shared_voltage(&self, sh: &Shared, i: usize) -> f64 {
        self.refractory
            .held(i)
            .unwrap_or_else(|| dot(self.net.decoder(i), &sh.y) + sh.w[i] * sh.g)
    }

    /// Component j of `y` as a trajectory on the current interval.
    #[inline]
    pub(super) fn component(&self, sh: &Shared, j: usize) -> Trajectory {
        let d = self.d;
        let mut drive = [0.0; STRIDE];
        for (k, b) in drive.iter_mut().enumerate().take(self.degree + 1) {
            *b = self.cpoly[k * d + j];
        }
        Trajectory {
            v0: sh.y[j],
            drive,
            slow: self.mx[j],
            degree: self.degree,
        }
    }

    /// Neuron i's trajectory on the current interval, from the shared state.
    #[inline]
    pub(super) fn shared_trajectory(&self, sh: &Shared, i: usize) -> Trajectory {
        let d = self.d;
        let di = self.net.decoder(i);
        let mut drive = [0.0; STRIDE];
        for (k, b) in drive.iter_mut().enumerate().take(self.degree + 1) {
            *b = dot(di, &self.cpoly[k * d..(k + 1) * d]);
        }
        Trajectory {
            v0: self.shared_voltage(sh, i),
            drive,
            slow: dot(di, &self.mx),
            degree: self.degree,
        }
    }

    /// `y` at the local time the basis `bv` was evaluated at, into `out`.
    pub(super) fn shared_y_at(&self, sh: &Shared, bv: &BasisValues, out: &mut [f64]) {
        for (j, o) in out.iter_mut().enumerate() {
            *o = self.component(sh, j).value(bv);
        }
    }

    /// Moves the shared state to the new origin `t` (`bv`: the basis at `t − origin`).
    pub(super) fn shared_advance(&mut self, t: f64, bv: &BasisValues) {
        let Some(mut sh) = self.shared.take() else {
            return;
        };
        let mut y = std::mem::take(&mut sh.ya);
        self.shared_y_at(&sh, bv, &mut y);
        std::mem::swap(&mut sh.y, &mut y);
        sh.ya = y;
        sh.g = (-self.net.lambda_v() * (t - sh.t_ref)).exp();
        let (lv, ld) = (self.net.lambda_v(), self.net.lambda_d());
        // (The same expression for equal rates: the same bits without a second exponential.)
        sh.gd = if ld == lv {
            sh.g
        } else {
            (-ld * (t - sh.t_ref)).exp()
        };
        if sh.g < FRAME_FLOOR || sh.gd < FRAME_FLOOR {
            let (g, gd) = (sh.g, sh.gd);
            sh.w.iter_mut().for_each(|w| *w *= g);
            sh.r.iter_mut().for_each(|r| *r *= gd);
            sh.tree.scale_w(g);
            sh.t_ref = t;
            sh.g = 1.0;
            sh.gd = 1.0;
        }
        self.shared = Some(sh);
    }

    /// Adds `dv` to neuron j's voltage through its `w` (at the origin). While the relaxation
    /// index serves, the hierarchy's extremes are brought up to date only when a query reads
    /// them ([`super::tree::DecoderTree::defer_w`]).
    fn shared_shift(&mut self, j: usize, dv: f64) {
        let defer = self.relaxes();
        if let Some(sh) = &mut self.shared {
            sh.w[j] = (sh.w[j] * sh.g + dv) / sh.g;
            if defer && sh.relax.is_valid() {
                sh.tree.defer_w(j, sh.w[j], &self.alive);
            } else {
                sh.tree.update_w(j, &self.alive, &sh.w);
            }
        }
        self.relax_touch(j);
    }

    /// j's spike at the origin, shared layout: its reset and its spike train.
    pub(super) fn shared_fire(&mut self, j: usize, reset: f64) {
        self.shared_shift(j, -reset);
        if let Some(sh) = &mut self.shared {
            sh.r[j] += 1.0 / sh.gd;
            sh.carry.fired(j, self.origin);
        }
    }

    /// j's fast input reaches every neuron, shared layout: `y −= D_j`, and j exempts itself.
    pub(super) fn shared_deliver(&mut self, j: usize) {
        let dj = self.net.decoder(j);
        let own = dot(dj, dj);
        if let Some(sh) = &mut self.shared {
            sh.certified = false;
            let inhibitory = sh.inhibitory;
            sh.carry.delivered(j, self.origin, inhibitory);
            for (y, x) in sh.y.iter_mut().zip(dj) {
                *y -= x;
            }
        }
        self.shared_shift(j, own);
    }

    /// j's clamp ends at the origin: it resumes from its held value.
    pub(super) fn shared_release(&mut self, j: usize) {
        self.forget_certificate();
        self.forget_carry();
        if let (Some(h), Some(sh)) = (self.refractory.held(j), &self.shared) {
            let free = dot(self.net.decoder(j), &sh.y) + sh.w[j] * sh.g;
            self.shared_shift(j, h - free);
        }
    }

    /// Every voltage set to 0 at the origin (placing the readout).
    pub(super) fn shared_zero(&mut self) {
        if let Some(sh) = &mut self.shared {
            sh.certified = false;
            sh.carry.forget();
            sh.y.fill(0.0);
            sh.w.fill(0.0);
            sh.relax.forget();
            sh.tree.refresh(self.net.thresholds(), &self.alive, &sh.w);
        }
    }

    /// The living set changed (kills): the hierarchy's extremes are recomputed.
    pub(super) fn shared_refresh_tree(&mut self) {
        if let Some(sh) = &mut self.shared {
            sh.certified = false;
            sh.carry.forget();
            sh.relax.forget();
            sh.tree.refresh(self.net.thresholds(), &self.alive, &sh.w);
        }
    }

    /// Voltages at `now` (`bv`: the basis at `now − origin`), shared layout.
    pub(super) fn shared_voltages(&self, sh: &Shared, bv: &BasisValues, out: &mut [f64]) {
        let mut y = vec![0.0; self.d];
        self.shared_y_at(sh, bv, &mut y);
        let g = sh.g * bv.leak;
        for (i, (o, di)) in out
            .iter_mut()
            .zip(self.net.decoders().chunks_exact(self.d))
            .enumerate()
        {
            *o = dot(di, &y) + sh.w[i] * g;
        }
        self.refractory.hold(out);
    }

    /// The same-instant rule's query through the hierarchy: the neuron that can fire, strictly
    /// above threshold by the most at the origin (ties: the lower index). Right after a found
    /// crossing fires, only the band that decided it can be above threshold (the search proved
    /// everyone else below by a margin; a spike's reset only lowers its own voltage), so only
    /// the band is evaluated — the same values, so the same answer as the whole query.
    ///
    /// Otherwise the relaxation index answers when it serves ([`Kernel::relaxed_most_above`]),
    /// else the hierarchy (its extremes brought up to date first).
    pub(super) fn shared_most_above(&self, sh: &mut Shared) -> Option<usize> {
        let can_fire = |i: usize| self.can_fire(i);
        if sh.certified {
            let found = sh
                .tree
                .argmax_among(&sh.found_band, &sh.y, sh.g, 0.0, can_fire);
            #[cfg(debug_assertions)]
            self.check_most_above(sh, found, "the band of a found crossing");
            return found.map(|(_, i)| i);
        }
        if let Some(found) = self.relaxed_most_above(sh) {
            #[cfg(debug_assertions)]
            self.check_most_above(sh, found, "the relaxation index");
            return found.map(|(_, i)| i);
        }
        sh.tree.flush(&self.alive);
        let mut stack = sh.stack.borrow_mut();
        sh.tree
            .argmax(&sh.y, sh.g, 0.0, can_fire, &mut stack)
            .map(|(_, i)| i)
    }

    /// Debug builds: a shortcut of the same-instant query gave `found`, as the hierarchy's
    /// query does (or, while its extremes wait for a flush, a scan of every neuron evaluated as
    /// it evaluates; skipped above 2¹⁴ neurons).
    #[cfg(debug_assertions)]
    fn check_most_above(&self, sh: &Shared, found: Option<(f64, usize)>, what: &str) {
        let can_fire = |i: usize| self.can_fire(i);
        let want = if !sh.tree.is_stale() {
            sh.tree
                .argmax(&sh.y, sh.g, 0.0, can_fire, &mut sh.stack.borrow_mut())
        } else if self.n <= 1 << 14 {
            let all: Vec<u32> = (0..self.n as u32).collect();
            sh.tree.argmax_among(&all, &sh.y, sh.g, 0.0, can_fire)
        } else {
            return;
        };
        assert_eq!(found, want, "{what} missed a neuron above threshold");
    }

    /// The crossing the search found fires now: its band certifies the same-instant rule's
    /// query until a voltage moves otherwise ([`Kernel::shared_most_above`]).
    pub(super) fn certify_crossing(&mut self) {
        if let Some(sh) = &mut self.shared {
            sh.certified = true;
        }
    }

    /// The found crossing's band no longer certifies anything (a new interval or a voltage
    /// moved).
    pub(super) fn forget_certificate(&mut self) {
        if let Some(sh) = &mut self.shared {
            sh.certified = false;
        }
    }

    /// The carried band no longer certifies anything (an event that may raise a voltage, or a
    /// change of the network).
    pub(super) fn forget_carry(&mut self) {
        if let Some(sh) = &mut self.shared {
            sh.carry.forget();
        }
    }

    /// Whether neuron i can fire now (alive, not in a refractory period).
    #[inline]
    pub(super) fn can_fire(&self, i: usize) -> bool {
        self.alive[i] && !self.refractory.blocks(i)
    }
}

impl Shared {
    /// The shared state `y` with frame values `w` (frame starting at the kernel's origin).
    fn new(k: &Kernel, y: Vec<f64>, w: Vec<f64>) -> Shared {
        let d = k.d;
        let tree = DecoderTree::build(k.net.decoders(), d, k.net.thresholds(), &k.alive, &w);
        Shared {
            y,
            w,
            r: vec![0.0; k.n],
            t_ref: k.origin,
            g: 1.0,
            gd: 1.0,
            tree,
            ya: vec![0.0; d],
            scratch: Scratch::default(),
            dy: (vec![0.0; d], vec![0.0; d]),
            stack: Default::default(),
            found_band: Vec::new(),
            certified: false,
            carry: Carry::default(),
            members: Vec::new(),
            relax: Relaxation::default(),
            inhibitory: carry::one_orthant(k.net.decoders(), d),
        }
    }
}

/// `argmin_y Σ_i (v_i − D_iᵀ y)²` by the normal equations with partial pivoting; 0 where they are
/// singular (any `y` is exact: the `w`'s take the rest).
fn least_squares(decoders: &[f64], d: usize, v: &[f64]) -> Vec<f64> {
    let mut a = vec![0.0; d * d];
    let mut b = vec![0.0; d];
    for (di, vi) in decoders.chunks_exact(d).zip(v) {
        for r in 0..d {
            b[r] += di[r] * vi;
            for c in 0..d {
                a[r * d + c] += di[r] * di[c];
            }
        }
    }
    let scale = (0..d).map(|r| a[r * d + r]).fold(0.0_f64, f64::max);
    for col in 0..d {
        let p = (col..d)
            .max_by(|&x, &y| a[x * d + col].abs().total_cmp(&a[y * d + col].abs()))
            .unwrap_or(col);
        if a[p * d + col].abs() <= 1e-12 * scale || !a[p * d + col].is_finite() {
            return vec![0.0; d];
        }
        for c in 0..d {
            a.swap(col * d + c, p * d + c);
        }
        b.swap(col, p);
        for r in col + 1..d {
            let f = a[r * d + col] / a[col * d + col];
            for c in col..d {
                a[r * d + c] -= f * a[col * d + c];
            }
            b[r] -= f * b[col];
        }
    }
    let mut y = vec![0.0; d];
    for r in (0..d).rev() {
        let s: f64 = (r + 1..d).map(|c| a[r * d + c] * y[c]).sum();
        y[r] = (b[r] - s) / a[r * d + r];
    }
    if y.iter().all(|x| x.is_finite()) {
        y
    } else {
        vec![0.0; d]
    }
}

#[cfg(test)]
mod tests {
    use super::{Thrift, THRIFT_WINDOW};

    /// The ledger gives up only after a whole window whose cost exceeds the per-neuron budget,
    /// and then for good.
    #[test]
    fn the_ledger_gives_up_only_on_expensive_windows() {
        let n = 1600;
        let mut cheap = Thrift::default();
        for _ in 0..4 * THRIFT_WINDOW {
            // A few steps and a small band per search: far below 4·N.
            assert!(!cheap.book(n, 3, 10));
        }
        assert!(!cheap.gave_up);

        let mut dear = Thrift::default();
        // 11 = ⌈log₂ 1600⌉; 40 steps a search cost 40·16·11 = 7040 > 4·1600.
        for k in 1..THRIFT_WINDOW {
            assert!(
                !dear.book(n, 40, 0),
                "decided before the window's end ({k})"
            );
        }
        assert!(dear.book(n, 40, 0));
        assert!(dear.gave_up);
        // Sticky: cheap searches afterwards do not bring the shared state back.
        for _ in 0..THRIFT_WINDOW {
            dear.book(n, 0, 0);
        }
        assert!(dear.gave_up);
    }
}
