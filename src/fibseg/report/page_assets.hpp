#pragma once
// The fixed parts of report.html: its style sheet and its two inline scripts. Kept apart from
// the C++ that writes the page so the JavaScript reads as JavaScript.
namespace fibseg::report {

/// CSS for the page.
const char* pageStyle();
/// Goes first in <head>: records window errors, failed image loads, unhandled promise
/// rejections and console.error calls in window.fibsegErrors, so the self-test can report them.
const char* errorCaptureScript();
/// Goes last in <body>: the segmentation viewer (slice and opacity sliders over a canvas; labels
/// coloured in the run's phases.colours) and the self-test run when the URL ends in
/// #selftest (moves both sliders, compares canvas pixels, writes PASS/FAIL into #selftest-result).
const char* viewerScript();

}  // namespace fibseg::report
