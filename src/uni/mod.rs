//! Q.2931 / UNI user-side call and party state machines, the coordinator, restart and timers.
