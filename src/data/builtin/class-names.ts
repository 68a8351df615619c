/** Class names of MNIST: the digits themselves. */
export const MNIST_CLASS_NAMES: readonly string[] = Object.freeze([
  '0', '1', '2', '3', '4', '5', '6', '7', '8', '9',
]);

/** Class names of Fashion-MNIST, in label order (Xiao et al. 2017). */
export const FASHION_MNIST_CLASS_NAMES: readonly string[] = Object.freeze([
  'T-shirt/top',
  'Trouser',
  'Pullover',
  'Dress',
  'Coat',
  'Sandal',
  'Shirt',
  'Sneaker',
  'Bag',
  'Ankle boot',
]);
