"""skvae: scikit-learn transformers that learn a nonlinear, generative latent space.

:class:`AutoencoderTransformer` and :class:`VAETransformer` are ordinary
scikit-learn transformers whose models are PyTorch modules trained through skorch;
:class:`OutlierDetector` wraps either as a scikit-learn outlier detector.
"""

from .autoencoder import AutoencoderTransformer
from .exceptions import TrainingDivergedError
from .outliers import OutlierDetector
from .vae import VAETransformer

__version__ = "0.1.0"

__all__ = [
    "AutoencoderTransformer", "OutlierDetector", "TrainingDivergedError", "VAETransformer",
    "__version__",
]
