"""Tests of the Smartcar API client (custom_components/smartcar/api), over real HTTP."""
