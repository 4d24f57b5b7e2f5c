"""skvae: scikit-learn transformers that learn a nonlinear, generative latent space.

:class:`AutoencoderTransformer` and :class:`VAETransformer` are ordinary
scikit-learn transformers whose models are PyTorch modules trained through skorch.
"""

from .autoencoder import AutoencoderTransformer
from .exceptions import TrainingDivergedError
from .vae import VAETransformer

__version__ = "0.1.0"

__all__ = ["AutoencoderTransformer", "TrainingDivergedError", "VAETransformer", "__version__"]
