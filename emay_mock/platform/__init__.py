"""The emulated Emay platform: accounts, messages, queues, templates, short links. No HTTP."""
