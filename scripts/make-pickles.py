#!/usr/bin/env python3
"""Writes the pickled-scaler test fixtures under test/fixtures/pickles/ (run with Debian's
python3-sklearn: /usr/bin/python3 scripts/make-pickles.py).

- iclrnn_scaler_X, iclrnn_scaler_y: scikit-learn MinMaxScalers pickled as the reference does
  (pickle protocol 4). scaler_X is fitted on the augmented columns [x, -x] of 4 CSTR-like
  features (8 columns), scaler_y on 2 outputs.
- scaler_X_protocol2, scaler_X_protocol5, scaler_y_float32: the same kind of object with other
  protocols / dtypes (the reader handles protocols 2 to 5).
- malicious_os_system, malicious_eval, not_a_scaler: must be refused by the restricted reader
  (pickling them runs nothing; unpickling them in Python would).
- expected.json: the fitted numbers and what sklearn computes for a sample, so the tests compare
  against scikit-learn itself.
"""
import json
import os
import pickle
import sys

import numpy as np
import sklearn
from sklearn.preprocessing import MinMaxScaler, StandardScaler

out = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'test', 'fixtures', 'pickles')
os.makedirs(out, exist_ok=True)
rng = np.random.default_rng(0)

# CSTR-like physical features: T - Ts, CA - CAs, CA0 - CA0s, Q - Qs
lo = np.array([-100.0, -2.0, -3.5, -5e5])
hi = np.array([100.0, 2.0, 3.5, 5e5])
X = lo + (hi - lo) * rng.random((500, 4))
Y = np.column_stack([X[:, 0] * 0.9 + 3.0, X[:, 1] * 1.1 - 0.2])
sx = MinMaxScaler().fit(np.hstack([X, -X]))
sy = MinMaxScaler().fit(Y)


def dump(obj, name, protocol=4):
    with open(os.path.join(out, name), 'wb') as f:
        pickle.dump(obj, f, protocol=protocol)


dump(sx, 'iclrnn_scaler_X')
dump(sy, 'iclrnn_scaler_y')
dump(sx, 'scaler_X_protocol2', protocol=2)
dump(sx, 'scaler_X_protocol5', protocol=5)
dump(MinMaxScaler().fit(Y.astype(np.float32)), 'scaler_y_float32')


class Boom:
    def __reduce__(self):
        return (os.system, ('echo iclrnn-pickle-was-executed > /tmp/iclrnn-pwned',))


class Evil:
    def __reduce__(self):
        return (eval, ("__import__('os').system('echo pwned')",))


dump(Boom(), 'malicious_os_system')
dump(Evil(), 'malicious_eval')
dump(StandardScaler().fit(X), 'not_a_scaler')

sample = X[:10]
scaled = sx.transform(np.hstack([sample, -sample]))
y_scaled = rng.random((10, 2))
expected = {
    'python': sys.version.split()[0],
    'sklearn': sklearn.__version__,
    'numpy': np.__version__,
    'X': {'data_min_': sx.data_min_.tolist(), 'data_max_': sx.data_max_.tolist(), 'scale_': sx.scale_.tolist(), 'min_': sx.min_.tolist()},
    'y': {'data_min_': sy.data_min_.tolist(), 'data_max_': sy.data_max_.tolist(), 'scale_': sy.scale_.tolist(), 'min_': sy.min_.tolist()},
    'sample_x': sample.tolist(),
    'sample_x_aug_scaled': scaled.tolist(),
    'sample_y_scaled': y_scaled.tolist(),
    'sample_y_physical': sy.inverse_transform(y_scaled).tolist(),
}
with open(os.path.join(out, 'expected.json'), 'w') as f:
    json.dump(expected, f, indent=1)
print('wrote', sorted(os.listdir(out)))
