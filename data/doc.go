// Package data reads the datasets of the FORTUNE experiments, CIFAR-10 (binary version) and
// Fashion-MNIST (IDX), into memory as uint8 NCHW images, verifies them against the official
// SHA-256 sums, and turns them into normalised float32 model input exactly as the authors'
// PyTorch pipelines do (torchvision ToTensor/Normalize, and Pillow's bilinear Resize for the
// 227×227 AlexNet input).
//
// The low-level readers work on any io.Reader, in the manner of encoding/binary and
// compress/gzip: [ReadCIFAR10] and [ParseCIFAR10Record] for CIFAR-10 batch files, [ReadIDX] for
// IDX files (gzip-compressed or not) and [ReadFashionMNIST] for an images/labels pair.
// [LoadCIFAR10] and [LoadFashionMNIST] find the files (see [Options] for the search order),
// download them from the official sites when they are nowhere to be found, verify them and
// return one [Split] as [Images]. [Images.Float32] fills a float32 batch for a range of images
// with a [Preprocess] applied, in parallel, so that large inputs (10,000 × 227×227) never need
// to be materialised at once.
package data
