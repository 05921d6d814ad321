//! seatcore's Python module: placeholder until the Python door lands.
