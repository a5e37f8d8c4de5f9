"""Fixtures shared by the core tests and the LangChain integration's tests (never shipped in the wheel).

* :mod:`.local_model` - a real small model behind llama-cpp-python's OpenAI-compatible server.
* :mod:`.network` - refuse every connection that leaves this machine.
* :mod:`.openai_endpoint` - a fake OpenAI-compatible chat endpoint on 127.0.0.1 that records requests.

``tests/conftest.py`` (core tests) and ``integrations/langchain/tests/conftest.py``
put the ``tests`` folder on ``sys.path``, so test modules import ``support.<module>``.
"""
