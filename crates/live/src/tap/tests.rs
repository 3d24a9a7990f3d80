//! The tap's hand-over between the fan-out and a stream's task, against a socket that takes
//! only so many bytes (the real socket's case is `parked` in the server's tests).

use std::io::IoSlice;
use std::sync::{Arc, Mutex};

use time::OffsetDateTime;
use tokio::sync::mpsc;

use super::{Offered, Outlet, Tap};
use crate::fan_out_tally::FanOutTally;
use crate::frame::Frame;
use crate::metrics::{Metrics, Transport};

/// A socket with room for `room` more bytes, keeping what it took.
struct Socket {
    taken: Mutex<(Vec<u8>, usize)>,
}

impl Socket {
    fn with_room(room: usize) -> Arc<Socket> {
        Arc::new(Socket { taken: Mutex::new((Vec::new(), room)) })
    }

    fn taken(&self) -> Vec<u8> {
        self.taken.lock().unwrap().0.clone()
    }
}

impl Outlet for Socket {
    fn try_write_vectored(&self, parts: &[IoSlice<'_>]) -> std::io::Result<usize> {
        let mut taken = self.taken.lock().unwrap();
        let (so_far, room) = &mut *taken;
        if *room == 0 {
            return Err(std::io::ErrorKind::WouldBlock.into());
        }
        let mut written = 0;
        for part in parts {
            let now = part.len().min(*room);
            so_far.extend_from_slice(&part[..now]);
            (*room, written) = (*room - now, written + now);
        }
        Ok(written)
    }
}

fn frame(seq: u64) -> Arc<Frame> {
    Arc::new(Frame::new(seq, "declared", format!("{{\"seq\":{seq}}}").into_bytes(), OffsetDateTime::now_utc()))
}

fn tap(socket: &Arc<Socket>) -> (Tap, mpsc::Receiver<Arc<Frame>>) {
    let (sender, receiver) = mpsc::channel(8);
    let tap = Tap::new(Some(sender));
    tap.attach(socket.clone(), Transport::Sse);
    (tap, receiver)
}

fn offer(tap: &Tap, frames: &[Arc<Frame>]) -> Offered {
    let mut tally = FanOutTally::new(frames);
    let offered = tap.offer(&frames.iter().collect::<Vec<_>>(), &mut tally);
    tally.add_to(frames, &Metrics::default());
    offered
}

fn queued(receiver: &mut mpsc::Receiver<Arc<Frame>>) -> Vec<u64> {
    std::iter::from_fn(|| receiver.try_recv().ok()).map(|frame| frame.seq).collect()
}

#[test]
fn a_parked_stream_has_its_frames_written_and_nothing_queued() {
    let socket = Socket::with_room(usize::MAX);
    let (tap, mut receiver) = tap(&socket);
    assert!(tap.park(0, || false));
    let frames = [frame(1), frame(2), frame(3)];
    assert!(matches!(offer(&tap, &frames[..1]), Offered::Taken));
    assert!(matches!(offer(&tap, &frames[1..]), Offered::Taken), "two at once, in one write");
    let expected: Vec<u8> = frames.iter().flat_map(|frame| frame.sse.to_vec()).collect();
    assert_eq!(socket.taken(), expected);
    assert_eq!(queued(&mut receiver), Vec::<u64>::new());
    let taken_back = tap.unpark();
    assert_eq!((taken_back.last_written, taken_back.written_of_next), (3, 0));
}

#[test]
fn a_socket_that_fills_hands_the_half_written_frame_and_the_rest_to_the_task() {
    let (one, two) = (frame(1), frame(2));
    // Room for the first frame and 5 bytes of the second.
    let socket = Socket::with_room(one.sse.len() + 5);
    let (tap, mut receiver) = tap(&socket);
    assert!(tap.park(0, || false));
    assert!(matches!(offer(&tap, &[one.clone(), two.clone(), frame(3)]), Offered::Taken));
    assert!(matches!(offer(&tap, &[frame(4)]), Offered::Taken), "after the hand-over: queued");
    assert_eq!(queued(&mut receiver), [2, 3, 4], "the half-written frame first");
    let taken_back = tap.unpark();
    assert_eq!((taken_back.last_written, taken_back.written_of_next), (1, 5));
    assert_eq!(socket.taken(), [&one.sse[..], &two.sse[..5]].concat());
    assert_eq!(tap.unpark().written_of_next, 0, "told once");
}

#[test]
fn a_socket_with_no_room_has_every_frame_queued_whole() {
    let socket = Socket::with_room(0);
    let (tap, mut receiver) = tap(&socket);
    assert!(tap.park(0, || false));
    assert!(matches!(offer(&tap, &[frame(1)]), Offered::Taken));
    assert_eq!(queued(&mut receiver), [1]);
    assert_eq!(tap.unpark().written_of_next, 0);
}

#[test]
fn a_stream_that_is_not_parked_or_has_a_frame_queued_gets_its_frames_queued() {
    let socket = Socket::with_room(usize::MAX);
    let (tap, mut receiver) = tap(&socket);
    assert!(matches!(offer(&tap, &[frame(1)]), Offered::Taken), "never parked");
    assert!(!tap.park(1, || true), "its queue holds a frame: not parked");
    assert!(matches!(offer(&tap, &[frame(2)]), Offered::Taken));
    assert_eq!(queued(&mut receiver), [1, 2]);
    assert!(socket.taken().is_empty());
}

#[test]
fn what_the_stream_sent_before_it_parked_is_never_written_again() {
    let socket = Socket::with_room(usize::MAX);
    let (tap, mut receiver) = tap(&socket);
    // It caught up from the log to 5, ahead of the fan-out.
    assert!(tap.park(5, || false));
    assert!(matches!(offer(&tap, &[frame(4), frame(5), frame(6)]), Offered::Taken));
    assert_eq!(socket.taken(), frame(6).sse.to_vec());
    assert_eq!(queued(&mut receiver), Vec::<u64>::new());
    assert_eq!(tap.unpark().last_written, 6);
}

#[test]
fn a_stream_without_a_socket_of_its_own_never_parks_and_a_closed_tap_takes_nothing() {
    let (sender, mut receiver) = mpsc::channel(8);
    let through_hyper = Tap::new(Some(sender));
    assert!(!through_hyper.park(0, || false), "no socket to write to");
    assert!(matches!(offer(&through_hyper, &[frame(1)]), Offered::Taken));
    assert_eq!(queued(&mut receiver), [1]);
    assert!(through_hyper.close().is_none(), "it had no socket to give back");
    assert!(matches!(offer(&through_hyper, &[frame(2)]), Offered::Gone));
    assert!(receiver.try_recv().is_err(), "its queue ended");
}

#[test]
fn a_full_queue_after_a_hand_over_cuts_the_subscriber_off() {
    let socket = Socket::with_room(0);
    let (sender, _receiver) = mpsc::channel(2);
    let tap = Tap::new(Some(sender));
    tap.attach(socket.clone(), Transport::Sse);
    assert!(tap.park(0, || false));
    assert!(matches!(offer(&tap, &[frame(1), frame(2), frame(3)]), Offered::Full));
    assert!(matches!(offer(&tap, &[frame(4)]), Offered::Gone), "let go at once: nothing behind the gap");
    assert!(!tap.park(3, || false), "and never parked again");
}
