"""The posted-C translator: kernel C as posted (a .c file, a patch, an mbox)
to a revision module the engine proves.

  inputs      read .c files, patches and mbox series into numbered lines
  preprocess  decide #if/#ifdef/IS_ENABLED() for the configuration audited
  era         which era of the kernel vocabulary the input is written in
  translator  one C function to Python in that era's vocabulary
  pipeline    the whole way: find, choose the era, translate, say where from
  runtime     what the generated modules import at run time

It reads text and writes Python: it never imports the solver nor the model
(tests/test_layering.py)."""
