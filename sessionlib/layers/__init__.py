"""``tf.layers``: TF 1's layers, as functions (``tf.layers.dense``) and classes
(``tf.layers.Dense``).

They are built on `variable_scope` and `get_variable`, so that their variables are named and
shared the TF 1 way (``dense/kernel:0``, ``reuse=True``); see `base` for the naming rules. The
modules: `base` (``Layer``), `core` (Dense, Dropout, Flatten), `convolutional`, `pooling` and
`normalization` (BatchNormalization).
"""

from sessionlib.layers.base import InputSpec, Layer
from sessionlib.layers.convolutional import (Conv1D, Conv2D, Conv2DTranspose, Conv3D,
                                             Conv3DTranspose, Convolution1D, Convolution2D,
                                             Convolution2DTranspose, Convolution3D,
                                             Convolution3DTranspose, Deconv2D, Deconv3D,
                                             Deconvolution2D, Deconvolution3D,
                                             SeparableConv1D, SeparableConv2D,
                                             SeparableConvolution1D, SeparableConvolution2D,
                                             conv1d, conv2d, conv2d_transpose, conv3d,
                                             conv3d_transpose, separable_conv1d,
                                             separable_conv2d)
from sessionlib.layers.core import Dense, Dropout, Flatten, dense, dropout, flatten
from sessionlib.layers.normalization import BatchNormalization, batch_normalization
from sessionlib.layers.pooling import (AveragePooling1D, AveragePooling2D, AveragePooling3D,
                                       AvgPool1D, AvgPool2D, AvgPool3D, MaxPool1D, MaxPool2D,
                                       MaxPool3D, MaxPooling1D, MaxPooling2D, MaxPooling3D,
                                       average_pooling1d, average_pooling2d,
                                       average_pooling3d, max_pooling1d, max_pooling2d,
                                       max_pooling3d)

__all__ = ["Layer", "InputSpec", "Dense", "Dropout", "Flatten", "dense", "dropout", "flatten",
           "Conv1D", "Conv2D", "Conv3D", "Conv2DTranspose", "Conv3DTranspose",
           "SeparableConv1D", "SeparableConv2D",
           "Convolution1D", "Convolution2D", "Convolution3D", "Convolution2DTranspose",
           "Convolution3DTranspose", "Deconvolution2D", "Deconv2D", "Deconvolution3D",
           "Deconv3D", "SeparableConvolution1D", "SeparableConvolution2D",
           "conv1d", "conv2d", "conv3d", "conv2d_transpose", "conv3d_transpose",
           "separable_conv1d", "separable_conv2d",
           "MaxPooling1D", "MaxPooling2D", "MaxPooling3D", "AveragePooling1D",
           "AveragePooling2D", "AveragePooling3D",
           "MaxPool1D", "MaxPool2D", "MaxPool3D", "AvgPool1D", "AvgPool2D", "AvgPool3D",
           "max_pooling1d", "max_pooling2d", "max_pooling3d", "average_pooling1d",
           "average_pooling2d", "average_pooling3d",
           "BatchNormalization", "batch_normalization"]
