//! seatcore's C API: placeholder until the C door lands.
