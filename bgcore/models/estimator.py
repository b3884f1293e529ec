"""scikit-learn's estimator contract for the background models, without importing scikit-learn.

The contract (https://scikit-learn.org/stable/developers/develop.html): the parameters are the
keyword arguments of ``__init__``, stored under the same names; ``get_params`` and ``set_params``
read and write them; the repr shows those that differ from their defaults; a model used before
``fit`` raises ``sklearn.exceptions.NotFittedError``. ``sklearn.base.clone`` and scikit-learn's
parameter searches take such models as they are.

``sklearn.base.BaseEstimator`` would give the same, but importing ``sklearn.base`` imports most of
scikit-learn, SciPy's statistics and pandas: 1.3 to 2 s here (``python -X importtime -c "import
sklearn.base"``), against 0.15 s for the whole of ``import bgcore``.
"""

from __future__ import annotations

import inspect


class Estimator:
    """get_params, set_params, a repr of the parameters and NotFittedError, as scikit-learn's."""

    @classmethod
    def _defaults(cls) -> dict:
        """The parameters of ``__init__`` and their defaults, in the order of its signature."""
        if cls.__init__ is object.__init__:
            return {}
        parameters = list(inspect.signature(cls.__init__).parameters.values())[1:]  # after self
        return {p.name: p.default for p in parameters
                if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}

    def get_params(self, deep: bool = True) -> dict:
        """The parameters by name. ``deep`` is scikit-learn's: no model here holds another."""
        return {name: getattr(self, name) for name in self._defaults()}

    def set_params(self, **params: object) -> Estimator:
        """Set parameters by name (they take effect at the next ``fit``); returns self."""
        names = self._defaults()
        unknown = sorted(set(params) - set(names))
        if unknown:
            raise ValueError(f"{', '.join(unknown)}: not a parameter of {type(self).__name__} "
                             f"(its parameters: {', '.join(names) or 'none'}).")
        for name, value in params.items():
            setattr(self, name, value)
        return self

    def __repr__(self) -> str:
        changed = [f"{name}={value!r}" for (name, value), default
                   in zip(self.get_params().items(), self._defaults().values())
                   if repr(value) != repr(default)]
        return f"{type(self).__name__}({', '.join(changed)})"

    def __getattr__(self, name: str):
        # Reached only when ``name`` is missing. Learned state (``background_``, ``_basis``)
        # asked for before ``fit`` is a NotFittedError, which is an AttributeError too (so
        # ``hasattr`` stays False); protocol probes such as ``_repr_html_`` or ``__array__``,
        # anything once fitted, and plain misspellings stay plain AttributeErrors.
        learned = name.startswith("_") != name.endswith("_")
        fitted = any(key.endswith("_") and not key.startswith("_") for key in vars(self))
        if not learned or fitted:
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        from sklearn.exceptions import NotFittedError  # a second to import: paid on this mistake only

        raise NotFittedError(f"This {type(self).__name__} is not fitted yet ({name} is learned by "
                             "fit): call fit(frames) before using it.")
