//! Networks and inputs built from numpy arrays: the library's `NetworkBuilder` and `Signal`
//! constructors, with their own checks and messages.

use crate::build_error;
use ebnsim::model::network::{Network, NetworkBuilder};
use ebnsim::model::refractory::RefractoryMode;
use ebnsim::model::signal::Signal;
use ebnsim::seed::{rng_stream, Stream};
use numpy::{PyReadonlyArray1, PyReadonlyArray2};
use pyo3::prelude::*;

/// Most random knot values a `smooth_random` input may have (the model files' limit).
const MAX_KNOT_VALUES: f64 = 5e6;

/// Rows of a C-contiguous 2-D float64 array.
fn rows(a: &PyReadonlyArray2<'_, f64>) -> Vec<Vec<f64>> {
    a.as_array().outer_iter().map(|r| r.to_vec()).collect()
}

/// A network of N neurons encoding d dimensions (see `ebnsim.Network`).
#[pyclass(name = "Network", module = "ebnsim._ebnsim", frozen)]
pub(crate) struct PyNetwork {
    pub(crate) inner: Network,
}

#[pymethods]
impl PyNetwork {
    /// `decoder` is d × N (column j is neuron j's decoding direction); the other arguments are
    /// the model format's `[network]` fields, in SI units (1/s, s).
    #[new]
    #[pyo3(signature = (
        decoder, *, lambda_d, lambda_v=None, mu, nu, fast_delay, thresholds=None, a=None,
        fast_weights=None, slow_weights=None, refractory_period=None, refractory_mode=None
    ))]
    #[allow(clippy::too_many_arguments)] // the model format's fields, one keyword each
    fn new(
        decoder: PyReadonlyArray2<'_, f64>,
        lambda_d: f64,
        lambda_v: Option<f64>,
        mu: f64,
        nu: f64,
        fast_delay: f64,
        thresholds: Option<PyReadonlyArray1<'_, f64>>,
        a: Option<PyReadonlyArray2<'_, f64>>,
        fast_weights: Option<PyReadonlyArray2<'_, f64>>,
        slow_weights: Option<PyReadonlyArray2<'_, f64>>,
        refractory_period: Option<PyReadonlyArray1<'_, f64>>,
        refractory_mode: Option<&str>,
    ) -> PyResult<PyNetwork> {
        let mut b = NetworkBuilder::new(rows(&decoder))
            .lambda_d(lambda_d)
            .mu(mu)
            .nu(nu)
            .fast_delay(fast_delay);
        if let Some(v) = lambda_v {
            b = b.lambda_v(v);
        }
        if let Some(t) = thresholds {
            b = b.thresholds(t.as_array().to_vec());
        }
        if let Some(a) = a {
            b = b.linear_dynamics(rows(&a));
        }
        if let Some(w) = fast_weights {
            b = b.fast_weights(rows(&w));
        }
        if let Some(w) = slow_weights {
            b = b.slow_weights(rows(&w));
        }
        if let Some(p) = refractory_period {
            b = b.refractory_periods(p.as_array().to_vec());
        }
        match refractory_mode {
            None | Some("clamp") => {}
            Some("hold") => b = b.refractory_mode(RefractoryMode::Hold),
            Some(other) => {
                return Err(build_error(format!(
                    "field `refractory_mode`: expected \"clamp\" or \"hold\", got {other:?}"
                )))
            }
        }
        Ok(PyNetwork {
            inner: b.build().map_err(build_error)?,
        })
    }

    /// Number of neurons N.
    #[getter]
    fn neurons(&self) -> usize {
        self.inner.neurons()
    }

    /// Number of encoded dimensions d.
    #[getter]
    fn dims(&self) -> usize {
        self.inner.dims()
    }

    /// The network as `network.json` describes it (a JSON text).
    fn to_json(&self) -> PyResult<String> {
        network_json(&self.inner)
    }
}

/// `network.json` of `network`, as text.
pub(crate) fn network_json(network: &Network) -> PyResult<String> {
    serde_json::to_string(&ebnsim::io::network_file::NetworkFile::of(network)).map_err(build_error)
}

/// An input signal `c(t)` of d components (see `ebnsim.Input`).
#[pyclass(name = "Input", module = "ebnsim._ebnsim", frozen)]
pub(crate) struct PyInput {
    pub(crate) inner: Signal,
}

#[pymethods]
impl PyInput {
    /// The same value at all times.
    #[staticmethod]
    fn constant(values: PyReadonlyArray1<'_, f64>) -> PyInput {
        PyInput {
            inner: Signal::constant(values.as_slice().unwrap_or(&values.as_array().to_vec())),
        }
    }

    /// `values[k]` (row k of a K × d array) from `times[k]` to `times[k + 1]`.
    #[staticmethod]
    fn piecewise_constant(
        times: PyReadonlyArray1<'_, f64>,
        values: PyReadonlyArray2<'_, f64>,
    ) -> PyResult<PyInput> {
        let v = rows(&values);
        let d = values.as_array().ncols();
        let inner =
            Signal::piecewise_constant(d, &times.as_array().to_vec(), &v).map_err(build_error)?;
        Ok(PyInput { inner })
    }

    /// Linear between `(times[k], values[k])`; the last value holds to the end.
    #[staticmethod]
    fn piecewise_linear(
        times: PyReadonlyArray1<'_, f64>,
        values: PyReadonlyArray2<'_, f64>,
    ) -> PyResult<PyInput> {
        let v = rows(&values);
        let d = values.as_array().ncols();
        let inner =
            Signal::piecewise_linear(d, &times.as_array().to_vec(), &v).map_err(build_error)?;
        Ok(PyInput { inner })
    }

    /// The model format's `smooth_random` input: a natural cubic spline through normal draws
    /// every `correlation_time` s over `[0, duration]`, drawn from `seed` (the same stream as
    /// the model file's).
    #[staticmethod]
    fn smooth_random(
        mean: PyReadonlyArray1<'_, f64>,
        amplitude: f64,
        correlation_time: f64,
        duration: f64,
        seed: u64,
    ) -> PyResult<PyInput> {
        let mean = mean.as_array().to_vec();
        // The knots the spline needs, checked before anything is allocated.
        let knots = (duration / correlation_time).ceil() + 1.0;
        if knots.is_nan() || knots * mean.len() as f64 > MAX_KNOT_VALUES {
            return Err(build_error(format!(
                "field `correlation_time`: expected at most {MAX_KNOT_VALUES:e} random knot values \
                 ((duration / correlation_time + 1) × dims), got {correlation_time} s over \
                 {duration} s"
            )));
        }
        let mut rng = rng_stream(seed, Stream::Input);
        let inner = Signal::smooth_random(&mean, amplitude, correlation_time, duration, &mut rng)
            .map_err(build_error)?;
        Ok(PyInput { inner })
    }

    /// Number of components d.
    #[getter]
    fn dims(&self) -> usize {
        self.inner.dims()
    }
}
