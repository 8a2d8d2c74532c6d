//! (being written: the simulation thread the GUI drives)
